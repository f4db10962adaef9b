package analyze

import "testing"

func TestSourceMatcher(t *testing.T) {
	tests := []struct {
		sources []string
		file    string
		want    bool
	}{
		{[]string{"."}, "README.md", true},
		{[]string{"./"}, "a/b/c.go", true},
		{[]string{"src/"}, "src/main.go", true},
		{[]string{"src"}, "src/pkg/x.go", true},
		{[]string{"src/"}, "srcs/main.go", false},
		{[]string{"/app/"}, "app/x", true},
		{[]string{"package*.json"}, "package-lock.json", true},
		{[]string{"package*.json"}, "sub/package.json", false},
		{[]string{"*.go"}, "cmd/main.go", false},
		{[]string{"**/*.go"}, "cmd/main.go", true},
		{[]string{"a.txt", "b.txt"}, "b.txt", true},
		{[]string{"a.txt", "b.txt"}, "c.txt", false},
		{[]string{"conf/[ab].yml"}, "conf/a.yml", true},
		{[]string{"conf/[ab].yml"}, "conf/c.yml", false},
		{nil, "x", false},
	}
	for _, tt := range tests {
		if got := newSourceMatcher(tt.sources).matches(tt.file); got != tt.want {
			t.Errorf("sources %q, file %q: got %v, want %v", tt.sources, tt.file, got, tt.want)
		}
	}
}

func TestMapChanges(t *testing.T) {
	c, err := mapChanges(&Changes{
		Files:   []string{"web/src/a.js", "web/README.md", "api/main.go", "web/node_modules/x/y.js", "./web/src/a.js"},
		Context: "web/",
		Ignore:  []string{"node_modules", "*.md"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.files) != 1 || c.files[0] != "src/a.js" || c.outside != 1 || len(c.ignored) != 2 {
		t.Errorf("got %+v", c)
	}
	if _, err := mapChanges(&Changes{Ignore: []string{"["}}); err == nil {
		t.Errorf("a bad .dockerignore pattern was accepted")
	}
}

func TestParseDockerfile(t *testing.T) {
	df, err := ParseDockerfile([]byte("# syntax=docker/dockerfile:1\n" +
		"ARG BASE=alpine:3.20\n" +
		"FROM ${BASE} AS deps\n" +
		"COPY --chmod=644 [\"package.json\", \"yarn.lock\", \"./\"]\n" +
		"RUN --mount=type=cache,target=/root/.cache --mount=type=bind,from=deps,source=/x,target=/y yarn\n" +
		"\n" +
		"FROM deps\n" +
		"COPY --link --from=deps /app/node_modules ./node_modules\n" +
		"ADD https://example.com/x.tgz /tmp/\n" +
		"COPY <<EOF /etc/motd\nhello\nEOF\n" +
		"RUN <<EOT\n  echo a\n  echo b\nEOT\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(df.Stages) != 2 || df.Stages[0].BaseName != "alpine:3.20" || df.Stages[1].BaseName != "deps" {
		t.Fatalf("stages = %+v", df.Stages)
	}
	deps := df.Stages[0].Commands
	if deps[0].Line != 4 || len(deps[0].Sources) != 2 || deps[0].Sources[1] != "yarn.lock" {
		t.Errorf("JSON-form COPY = %+v", deps[0])
	}
	if len(deps[1].BindMounts) != 1 || deps[1].BindMounts[0].From != "deps" {
		t.Errorf("RUN mounts = %+v", deps[1].BindMounts)
	}
	final := df.Stages[1].Commands
	if final[0].From != "deps" || final[0].Text != "COPY --link --from=deps /app/node_modules ./node_modules" {
		t.Errorf("COPY --from = %+v", final[0])
	}
	if !final[1].Remote || !final[2].Inline || final[3].Text != "RUN <<EOT" || final[3].Line != 13 {
		t.Errorf("ADD/heredocs = %+v", final[1:])
	}
	if _, err := ParseDockerfile([]byte("FROM\n")); err == nil {
		t.Errorf("a FROM without an image parsed")
	}
}
