// Package changes lists the files a pull request changed, from git or from a list.
package changes
