package action

import (
	"fmt"
	"io"
	"strings"

	githubactions "github.com/sethvargo/go-githubactions"

	"github.com/layerdiff/layerdiff/internal/mdsafe"
)

// logger writes the step's log and workflow commands. Every message is redacted of the run's
// secrets (on top of the runner's own masking) and made safe to print: untrusted text cannot
// start a workflow command.
type logger struct {
	a        *githubactions.Action
	w        io.Writer
	secrets  []string
	warnings int
}

func (l *logger) redact(s string) string {
	for _, sec := range l.secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "***")
		}
	}
	return s
}

func (l *logger) line(format string, args ...any) string {
	return mdsafe.LogSafe(l.redact(fmt.Sprintf(format, args...)))
}

func (l *logger) infof(format string, args ...any) {
	fmt.Fprintln(l.w, l.line(format, args...))
}

func (l *logger) noticef(format string, args ...any) { l.a.Noticef("%s", l.line(format, args...)) }

func (l *logger) warnf(format string, args ...any) {
	l.warnings++
	l.a.Warningf("%s", l.line(format, args...))
}

func (l *logger) errorf(format string, args ...any) { l.a.Errorf("%s", l.line(format, args...)) }

// annotate writes a warning attached to a file and line, which GitHub shows in the pull
// request's Files view.
func (l *logger) annotate(file string, line int, title, msg string) {
	l.warnings++
	l.a.WithFieldsMap(map[string]string{
		"file":  l.redact(file),
		"line":  fmt.Sprint(line),
		"title": l.redact(title),
	}).Warningf("%s", l.line("%s", msg))
}

// block prints multi-line text (the report, for runs without a comment) inside a log group,
// each line made safe on its own.
func (l *logger) block(title, text string) {
	l.a.Group(l.line("%s", title))
	for _, ln := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintln(l.w, mdsafe.LogSafe(l.redact(ln)))
	}
	l.a.EndGroup()
}
