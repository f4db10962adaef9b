package analyze

import (
	"fmt"
	"strings"
	"testing"
)

// FuzzDockerfileMapping feeds arbitrary Dockerfile text and history texts to the parser and the
// analysis: neither may panic, and the report must keep its invariants.
func FuzzDockerfileMapping(f *testing.F) {
	f.Add("FROM alpine\nWORKDIR /app\nCOPY . .\nRUN make\n", "WORKDIR /app\nCOPY . . # buildkit\nRUN /bin/sh -c make # buildkit", "README.md", uint8(2))
	f.Add("FROM golang AS build\nCOPY go.mod .\nRUN go build\nFROM scratch\nCOPY --from=build /out /\n", "COPY /out / # buildkit", "go.mod", uint8(0))
	f.Add("ARG BASE=alpine\nFROM ${BASE}\nARG NPM_TOKEN\nRUN --mount=type=bind,source=x,target=/x npm ci\n", "ARG NPM_TOKEN=abcd1234\nRUN |1 NPM_TOKEN=abcd1234 /bin/sh -c npm ci # buildkit", "x/y", uint8(1))
	f.Add("FROM a\nCOPY <<EOF /x\nhi\nEOF\nADD https://x/y /z\n", "/bin/sh -c #(nop) COPY file:abc in /x\n/bin/sh -c #(nop) ADD file:def in /z", "", uint8(3))
	f.Fuzz(func(t *testing.T, dockerfile, history, changed string, changeFrom uint8) {
		if len(dockerfile) > 1<<16 || len(history) > 1<<16 {
			return
		}
		df, _ := ParseDockerfile([]byte(dockerfile))
		mk := func(salt string) *Image {
			img := &Image{Digest: "sha256:" + salt}
			for i, line := range strings.Split(history, "\n") {
				empty := strings.HasPrefix(line, "ARG") || strings.HasPrefix(line, "ENV")
				img.History = append(img.History, HistoryEntry{CreatedBy: line, EmptyLayer: empty, Comment: "buildkit.dockerfile.v0"})
				if !empty {
					id := fmt.Sprintf("sha256:%d", i)
					if salt == "head" && i >= int(changeFrom) {
						id += "h"
					}
					img.Layers = append(img.Layers, ImageLayer{Digest: id, DiffID: id, Size: int64(i + 1)})
				}
			}
			return img
		}
		head := mk("head")
		var ch *Changes
		if changed != "" {
			ch = &Changes{Files: strings.Split(changed, "\n"), Ignore: []string{"*.md"}}
		}
		r, err := Analyze(Input{Base: mk("base"), Head: head, Dockerfile: df, DockerfilePath: "Dockerfile", Changes: ch})
		if err != nil {
			return // a bad .dockerignore pattern is an error, not a panic
		}
		if len(r.Steps) < len(head.History) {
			t.Fatalf("%d steps for %d history entries", len(r.Steps), len(head.History))
		}
		s := r.Summary
		if s.CachedLayers+s.RebuiltLayers != s.Layers || s.Reuse < 0 || s.Reuse > 100 || s.CachedBytes < 0 || s.RebuiltBytes < 0 {
			t.Fatalf("summary breaks its invariants: %+v", s)
		}
		for i, st := range r.Steps {
			if st.Index != i+1 || (st.Status == StatusRebuilt) != (st.Cause != nil) {
				t.Fatalf("step %d: %+v", i+1, st)
			}
			if st.Cause != nil && (st.Cause.RootStep < 1 || st.Cause.RootStep > st.Index) {
				t.Fatalf("step %d has root step %d", st.Index, st.Cause.RootStep)
			}
		}
	})
}
