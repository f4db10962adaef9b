// Package render turns a report into text for a terminal, markdown for a pull request, or JSON.
package render
