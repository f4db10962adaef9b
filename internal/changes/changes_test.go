package changes

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestFromGit(t *testing.T) {
	dir := t.TempDir()
	runGit(t, dir, "init", "-q")
	for name, body := range map[string]string{"a.txt": "1", "old name.txt": "x", "src/keep.go": "k"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	runGit(t, dir, "add", "-A")
	runGit(t, dir, "commit", "-qm", "base")
	base := runGit(t, dir, "rev-parse", "HEAD")
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("2"), 0o644)
	runGit(t, dir, "mv", "old name.txt", "ünïcode name.txt")
	runGit(t, dir, "commit", "-qam", "head")
	head := runGit(t, dir, "rev-parse", "HEAD")

	files, err := FromGit(context.Background(), dir, base, head)
	if err != nil {
		t.Fatal(err)
	}
	want := "a.txt,old name.txt,ünïcode name.txt"
	if got := strings.Join(files, ","); got != want {
		t.Errorf("files = %q, want %q (a rename is a deletion and an addition)", got, want)
	}
	if _, err := FromGit(context.Background(), dir, "deadbeef", head); err == nil || !strings.Contains(err.Error(), `commit "deadbeef" is not in the repository`) {
		t.Errorf("unknown commit: %v", err)
	}
	if _, err := FromGit(context.Background(), dir, "--output=/tmp/x", head); err == nil {
		t.Errorf("an option was accepted as a revision")
	}
	if data, ok := Show(context.Background(), dir, base, "a.txt"); !ok || string(data) != "1" {
		t.Errorf("Show = %q, %v", data, ok)
	}
}

func TestFromList(t *testing.T) {
	files, err := FromList(strings.NewReader("a.txt\n\n# comment\n  src/b.go  \r\n"))
	if err != nil || strings.Join(files, ",") != "a.txt,src/b.go" {
		t.Errorf("files = %q, %v", files, err)
	}
}
