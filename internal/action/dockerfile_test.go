package action

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/patternmatcher/ignorefile"

	"github.com/layerdiff/layerdiff/analyze"
)

// actionImage is the action's image as BuildKit records it: alpine's own history, then the
// final stage of the repository's Dockerfile. binary stands for the content of the
// COPY --from=build layer.
func actionImage(binary string) *analyze.Image {
	img := &analyze.Image{Reference: "ghcr.io/layerdiff/layerdiff:" + binary, Digest: "sha256:" + binary, Platform: "linux/amd64"}
	add := func(createdBy string, layer string) {
		img.History = append(img.History, analyze.HistoryEntry{CreatedBy: createdBy, Comment: "buildkit.dockerfile.v0", EmptyLayer: layer == ""})
		if layer != "" {
			d := fmt.Sprintf("sha256:%064x", len(img.Layers)+1) + layer
			img.Layers = append(img.Layers, analyze.ImageLayer{Digest: d, DiffID: d, Size: int64(1000 * (len(img.Layers) + 1))})
		}
	}
	add("ADD alpine-minirootfs-3.22.0-x86_64.tar.gz / # buildkit", "alpine")
	add(`CMD ["/bin/sh"]`, "")
	add("RUN /bin/sh -c apk add --no-cache ca-certificates git # buildkit", "apk")
	add("COPY /out/layerdiff /usr/local/bin/layerdiff # buildkit", binary)
	add(`ENTRYPOINT ["/usr/local/bin/layerdiff"]`, "")
	return img
}

// TestActionDockerfileFollowsItsOwnAdvice runs layerdiff's analysis on its own action image, for
// the changes a pull request to this repository makes, and expects nothing to fix.
func TestActionDockerfileFollowsItsOwnAdvice(t *testing.T) {
	root := filepath.Join("..", "..")
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df, err := analyze.ParseDockerfile(data)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	ignore, err := ignorefile.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, changed := range [][]string{
		{"internal/cli/cli.go"},
		{"go.mod", "go.sum"},
		{"analyze/analyze.go", "README.md", "analyze/analyze_test.go"},
	} {
		t.Run(strings.Join(changed, ","), func(t *testing.T) {
			r, err := analyze.Analyze(analyze.Input{
				Base:           actionImage("old"),
				Head:           actionImage("new"),
				Dockerfile:     df,
				DockerfilePath: "Dockerfile",
				Changes:        &analyze.Changes{Files: changed, Ignore: ignore},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Summary.RootCauses) != 1 || r.Summary.RootCauses[0].Kind != analyze.CauseSources {
				t.Errorf("root causes %+v, want the COPY --from=build of a changed source; warnings %q", r.Summary.RootCauses, r.Warnings)
			}
			for _, st := range r.Steps {
				if st.Status == analyze.StatusRebuilt && !strings.HasPrefix(st.Instruction, "COPY") && !strings.HasPrefix(st.Instruction, "ENTRYPOINT") {
					t.Errorf("step %d %q rebuilt", st.Index, st.Instruction)
				}
			}
			if len(r.Suggestions) != 0 {
				t.Errorf("layerdiff has advice for its own Dockerfile: %+v", r.Suggestions)
			}
		})
	}
}

// TestActionDockerfileShape checks what GitHub needs of a container action's image.
func TestActionDockerfileShape(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	var froms, entrypoints []string
	var lines []string
	for _, ln := range strings.Split(text, "\n") {
		ln = strings.TrimSpace(ln)
		if ln == "" || strings.HasPrefix(ln, "#") {
			continue
		}
		lines = append(lines, ln)
		switch strings.ToUpper(strings.Fields(ln)[0]) {
		case "FROM":
			froms = append(froms, ln)
		case "ENTRYPOINT":
			entrypoints = append(entrypoints, ln)
		case "USER":
			t.Errorf("%q: GitHub runs container actions as root; a USER cannot write the workspace's files", ln)
		}
	}
	if len(froms) < 2 {
		t.Errorf("not multi-stage: %q", froms)
	}
	if !strings.HasPrefix(lines[0], "ARG GO_IMAGE=") || !strings.HasPrefix(lines[1], "ARG RUNTIME_IMAGE=") {
		t.Errorf("base images are not overridable build args: %q", lines[:2])
	}
	if len(entrypoints) != 1 || !strings.HasPrefix(entrypoints[0], `ENTRYPOINT ["`) {
		t.Errorf("ENTRYPOINT not in exec form: %q", entrypoints)
	}
	mod, src := strings.Index(text, "COPY go.mod go.sum"), strings.Index(text, "COPY . .")
	dl := strings.Index(text, "RUN go mod download")
	if mod < 0 || dl < mod || src < dl {
		t.Error("module files are not copied and downloaded before the sources")
	}
	if !strings.Contains(text, "CGO_ENABLED=0") || !strings.Contains(text, "ca-certificates") {
		t.Error("not a static binary with CA certificates")
	}
}
