package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	githubactions "github.com/sethvargo/go-githubactions"

	"github.com/layerdiff/layerdiff/analyze"
	"github.com/layerdiff/layerdiff/internal/cli"
	"github.com/layerdiff/layerdiff/internal/github"
	"github.com/layerdiff/layerdiff/internal/image"
	"github.com/layerdiff/layerdiff/internal/mdsafe"
	"github.com/layerdiff/layerdiff/internal/render"
)

// version is layerdiff's version as the comment footer shows it: cli.Version as release builds
// set it, else the module version of a `go install`.
func version() string {
	if cli.Version != "dev" {
		return cli.Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return cli.Version
}

// Limits GitHub puts on what one step writes.
const (
	maxSummaryBytes = 1 << 20 // job summary, per step
	maxAnnotations  = 10      // per type, per step
)

// runner holds what tests replace: the analysis, the renderer, the GitHub client's options
// (transport, sleeps) and the git binary.
type runner struct {
	analyze   func(context.Context, cli.Options) (*analyze.Report, error)
	markdown  func(*analyze.Report, render.MarkdownOptions) string
	ghOptions []github.Option
	git       string
}

// Run runs layerdiff as a GitHub Action: inputs and the event from the environment (getenv),
// workflow commands and the log to stdout. It returns the exit status: 0, 1 when a gate failed
// (after the comment, summary and outputs were written), 2 for an input error.
func Run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	r := &runner{analyze: cli.Analyze, markdown: render.Markdown, git: "git"}
	return r.run(ctx, getenv, stdout, stderr)
}

func (r *runner) run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	a := githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stdout))
	l := &logger{a: a, w: stdout}

	// Mask secrets before anything else can print them.
	for _, name := range []string{"github-token", "registry-password"} {
		if v := a.GetInput(name); v != "" {
			a.AddMask(v)
			l.secrets = append(l.secrets, v)
		}
	}

	in, err := readInputs(a)
	if err != nil {
		l.errorf("%v", err)
		return cli.ExitInput
	}
	gc, err := a.Context()
	if gc == nil {
		l.errorf("reading the event payload (GITHUB_EVENT_PATH): %v", err)
		return cli.ExitInput
	}
	t := readTarget(gc)
	ws, err := newWorkspace(gc.Workspace)
	if err != nil {
		l.errorf("%v", err)
		return cli.ExitInput
	}

	var gh *github.Client
	if in.Token != "" {
		opts := append([]github.Option{
			github.WithGraphQLURL(getenv("GITHUB_GRAPHQL_URL")),
			github.WithUserAgent("layerdiff/" + version()),
			github.WithLogf(l.infof),
		}, r.ghOptions...)
		if gh, err = github.New(getenv("GITHUB_API_URL"), in.Token, opts...); err != nil {
			l.errorf("%v", err)
			return cli.ExitInput
		}
	}

	key := in.CommentKey
	var (
		rep        *analyze.Report
		reportPath string
	)
	if in.ReportFile != "" {
		var fileKey string
		rep, fileKey, err = r.fromReportFile(ctx, in, ws, &t, gc, gh)
		if err != nil {
			l.errorf("%v", err)
			return cli.ExitInput
		}
		if key == "" && github.ValidKey(fileKey) {
			key = fileKey
		}
		reportPath = in.ReportFile
		if in.hasLimits() {
			analyze.EvaluateGates(rep, in.Limits)
		}
	} else {
		if rep, err = r.analyzeImages(ctx, l, in, ws, t, gc, getenv, gh); err != nil {
			l.errorf("%v", err)
			return cli.ExitInput
		}
	}
	if key == "" {
		key = DefaultCommentKey
	}
	// A build argument whose name does not look secret can carry the token into the image
	// history; take the run's secrets out of every string of the report before anything renders
	// it (escaping would otherwise change them past recognition).
	if err := redactReport(rep, l.redact); err != nil {
		l.errorf("%v", err)
		return cli.ExitInput
	}
	if in.ReportFile == "" {
		reportPath = reportFileName(key)
		prov := &Provenance{
			Repository: gc.Repository, PullRequest: t.Number, BaseSHA: t.BaseSHA, HeadSHA: t.HeadSHA,
			Event: t.Event, RunID: gc.RunID, CommentKey: key,
		}
		if err := writeReportFile(filepath.Join(ws.dir, reportPath), rep, prov, l.redact); err != nil {
			l.warnf("writing the JSON report: %v", err)
			reportPath = ""
		}
	}

	mo := render.MarkdownOptions{
		Title:     title(in, rep, gc.Repository),
		BaseLabel: t.BaseLabel,
		HeadLabel: t.HeadLabel,
		Version:   version(),
	}
	if gc.Repository != "" && t.HeadSHA != "" {
		mo.BlobURL = fmt.Sprintf("%s/%s/blob/%s/", strings.TrimSuffix(gc.ServerURL, "/"), gc.Repository, t.HeadSHA)
	}
	if gc.Repository != "" && gc.RunID > 0 {
		mo.RunURL = fmt.Sprintf("%s/%s/actions/runs/%d", strings.TrimSuffix(gc.ServerURL, "/"), gc.Repository, gc.RunID)
	}

	// Outputs first: they must be there even if GitHub refuses the comment.
	outputs := map[string]string{
		"rebuilt-layers": strconv.Itoa(rep.Summary.RebuiltLayers),
		"rebuilt-bytes":  strconv.FormatInt(rep.Summary.RebuiltBytes, 10),
		"cached-bytes":   strconv.FormatInt(rep.Summary.CachedBytes, 10),
		"reuse":          strconv.FormatFloat(math.Round(rep.Summary.Reuse*100)/100, 'f', -1, 64),
		"root-cause":     rootCause(rep),
		"report":         filepath.ToSlash(reportPath),
	}
	for _, name := range []string{"rebuilt-layers", "rebuilt-bytes", "cached-bytes", "reuse", "root-cause", "report"} {
		r.setOutput(l, getenv, name, outputs[name])
	}

	status := r.comment(ctx, l, in, key, t, gh, rep, mo)
	r.setOutput(l, getenv, "comment-url", status.url)

	r.summary(l, getenv, rep, mo, status)
	r.annotate(l, rep)

	failed := false
	for _, g := range rep.Gates {
		if !g.Passed {
			failed = true
			l.errorf("gate %s failed: %s (limit %s)", g.Name, g.Actual, g.Limit)
		}
	}
	if failed {
		return cli.ExitGateFailed
	}
	return cli.ExitOK
}

// setOutput writes one step output. go-githubactions panics when GITHUB_OUTPUT is unset or
// unwritable (old act versions, a local run); that must not lose the report.
func (r *runner) setOutput(l *logger, getenv func(string) string, name, value string) {
	if getenv("GITHUB_OUTPUT") == "" {
		return
	}
	value = strings.NewReplacer("\r", " ", "\n", " ").Replace(l.redact(value))
	defer func() {
		if p := recover(); p != nil {
			l.warnf("writing output %s: %v", name, p)
		}
	}()
	l.a.SetOutput(name, value)
}

var keyFileUnsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// reportFileName is where the JSON report goes, relative to the workspace (the only directory a
// container action shares with later steps): layerdiff-report.json for the default key.
func reportFileName(key string) string {
	if key == DefaultCommentKey {
		return "layerdiff-report.json"
	}
	return "layerdiff-report-" + keyFileUnsafe.ReplaceAllString(key, "_") + ".json"
}

func redactReport(rep *analyze.Report, redact func(string) string) error {
	data, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	if red := redact(string(data)); red != string(data) {
		var clean analyze.Report
		if err := json.Unmarshal([]byte(red), &clean); err != nil {
			return fmt.Errorf("redacting the report: %w", err)
		}
		*rep = clean
	}
	return nil
}

func rootCause(r *analyze.Report) string {
	if len(r.Summary.RootCauses) > 0 {
		return r.Summary.RootCauses[0].Kind
	}
	return ""
}

// rebuilt says whether an on-rebuild comment is worth creating.
func rebuilt(r *analyze.Report) bool {
	if r.Summary.RebuiltLayers > 0 || len(r.Summary.RootCauses) > 0 {
		return true
	}
	for _, s := range r.Steps {
		if s.Status == analyze.StatusRebuilt {
			return true
		}
	}
	for _, g := range r.Gates {
		if !g.Passed {
			return true
		}
	}
	return false
}

// title names what was compared: the head image's repository; for archives the GitHub
// repository, or the Dockerfile when it is not the root one (a monorepo's service).
func title(in inputs, r *analyze.Report, repo string) string {
	ref := in.HeadImage
	if ref == "" && r.Head != nil {
		ref = r.Head.Reference
	}
	if _, ok := registryHost(ref); ok {
		return repository(ref)
	}
	if r.Dockerfile != "" && r.Dockerfile != "Dockerfile" {
		return r.Dockerfile
	}
	if repo != "" {
		return repo
	}
	return ref
}

func (r *runner) analyzeImages(ctx context.Context, l *logger, in inputs, ws workspace, t target, gc *githubactions.GitHubContext, getenv func(string) string, gh *github.Client) (rep *analyze.Report, err error) {
	opts := cli.Options{Platform: in.Platform, Repo: ws.dir, Limits: in.Limits}

	if opts.Head, err = ws.confineReference(in.HeadImage); err != nil {
		return nil, &inputError{"head-image", fmt.Sprintf("%s %v", in.HeadImage, err)}
	}
	if opts.Base, err = ws.confineReference(in.BaseImage); err != nil {
		return nil, &inputError{"base-image", fmt.Sprintf("%s %v", in.BaseImage, err)}
	}

	if in.Context != "" {
		abs, _, err := ws.resolve(in.Context)
		switch {
		case errors.Is(err, errOutside):
			return nil, &inputError{"context", in.Context + " is outside the workspace"}
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return nil, &inputError{"context", err.Error()}
		}
		opts.Context = abs
	}
	df := in.Dockerfile
	if (df == "" || df == "Dockerfile") && in.Context != "" {
		if _, _, err := ws.resolve(filepath.Join(in.Context, "Dockerfile")); err == nil {
			df = filepath.Join(in.Context, "Dockerfile")
		}
	}
	if df == "" {
		df = "Dockerfile"
	}
	dfAbs, dfRel, err := ws.resolve(df)
	switch {
	case errors.Is(err, errOutside):
		return nil, &inputError{"dockerfile", df + " is outside the workspace (a symlink may point out of it): refusing to read it"}
	case errors.Is(err, fs.ErrNotExist):
		l.warnf("dockerfile %s is not in the workspace (no checkout step?): steps are not mapped to Dockerfile lines", df)
		dfRel = ""
		if opts.Context == "" {
			// The analysis looks for <context>/Dockerfile by default: keep that in the workspace.
			opts.Context = ws.dir
		}
	case err != nil:
		return nil, &inputError{"dockerfile", err.Error()}
	default:
		opts.Dockerfile = dfAbs
	}

	r.credentials(l, in, gc, getenv, &opts)

	cf := r.changedFiles(ctx, t, ws, gh)
	switch {
	case cf.Files != nil:
		opts.ChangedFiles = cf.Files
		if cf.Source == "git" {
			// Both commits are in the checkout: the base commit's Dockerfile tells how the base
			// image was built (a FROM or an edited stage is then named exactly).
			opts.BaseCommit, opts.HeadCommit = t.BaseSHA, t.HeadSHA
		}
		l.infof("changed files: %d from %s", len(cf.Files), cf.Source)
		if cf.Note != "" {
			l.warnf("%s", cf.Note)
		}
	case cf.Note != "":
		l.infof("changed files unknown: %s", cf.Note)
	}

	l.infof("comparing %s with %s", orNone(opts.Base), opts.Head)
	actx, cancel := context.WithTimeout(ctx, in.Timeout)
	defer cancel()
	rep, err = r.callAnalyze(actx, opts)
	// Only this deadline is a timeout: a cancelled job (ctx) is not, and says so itself.
	if err != nil && errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		return nil, fmt.Errorf("reading the images took longer than the timeout input (%s)", in.Timeout)
	}
	if err != nil {
		return nil, err
	}
	if dfRel != "" {
		// Links and annotations need the path relative to the repository, not the container's.
		rep.Dockerfile = dfRel
	}
	return rep, nil
}

func orNone(s string) string {
	if s == "" {
		return "(no base image)"
	}
	return s
}

func (r *runner) callAnalyze(ctx context.Context, opts cli.Options) (rep *analyze.Report, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("internal error: %v", p)
		}
	}()
	rep, err = r.analyze(ctx, opts)
	if err == nil && rep == nil {
		err = errors.New("internal error: no report")
	}
	return rep, err
}

// credentials decides how the images' registries are reached from inside the container, whose
// HOME is not the runner's (so an earlier `docker login` is invisible): registry-username and
// registry-password when given; otherwise the Docker config keychain, which honours a
// DOCKER_CONFIG the workflow points at, and after it, for ghcr.io only, the github-token as the
// actor. The token is never offered to any other registry.
func (r *runner) credentials(l *logger, in inputs, gc *githubactions.GitHubContext, getenv func(string) string, opts *cli.Options) {
	if in.Username != "" {
		opts.Username, opts.Password = in.Username, in.Password
		return
	}
	if dc := getenv("DOCKER_CONFIG"); dc != "" {
		l.infof("registry credentials: Docker config in DOCKER_CONFIG=%s", dc)
	}
	ghcr := false
	for _, ref := range []string{opts.Base, opts.Head} {
		if h, ok := registryHost(ref); ok && h == ghcrHost {
			ghcr = true
		}
	}
	kc := registryKeychain(in.Token, gc.Actor, ghcr)
	if ghcr && in.Token != "" {
		l.infof("registry credentials: github-token as %s for ghcr.io, unless the Docker config has some", actorOr(gc.Actor))
	}
	opts.ImageOptions = append(opts.ImageOptions, image.WithKeychain(kc))
}

const ghcrHost = "ghcr.io"

func actorOr(actor string) string {
	if actor == "" {
		return "github-actions"
	}
	return actor
}

// registryKeychain is the Docker config keychain, then the token for ghcr.io alone.
func registryKeychain(token, actor string, ghcr bool) authn.Keychain {
	if !ghcr || token == "" {
		return authn.DefaultKeychain
	}
	return authn.NewMultiKeychain(authn.DefaultKeychain, ghcrKeychain{user: actorOr(actor), token: token})
}

type ghcrKeychain struct{ user, token string }

func (k ghcrKeychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	if strings.EqualFold(res.RegistryStr(), ghcrHost) {
		return &authn.Basic{Username: k.user, Password: k.token}, nil
	}
	return authn.Anonymous, nil
}

// fromReportFile loads a report another job produced and checks it belongs to this run's pull
// request and head commit, from trusted facts: the event payload, and for a workflow_run about a
// fork (whose payload lists no pull request) the pull request as the API reports it.
func (r *runner) fromReportFile(ctx context.Context, in inputs, ws workspace, t *target, gc *githubactions.GitHubContext, gh *github.Client) (*analyze.Report, string, error) {
	abs, _, err := ws.resolve(in.ReportFile)
	if err != nil {
		if errors.Is(err, errOutside) {
			return nil, "", &inputError{"report-file", in.ReportFile + " is outside the workspace"}
		}
		return nil, "", &inputError{"report-file", fmt.Sprintf("%s: %v", in.ReportFile, err)}
	}
	rep, p, err := readReportFile(abs)
	if err != nil {
		return nil, "", &inputError{"report-file", fmt.Sprintf("%s: %v", in.ReportFile, err)}
	}
	refuse := func(format string, args ...any) error {
		return &inputError{"report-file", fmt.Sprintf(format, args...) + ": refusing to post it"}
	}
	if !strings.EqualFold(p.Repository, gc.Repository) {
		return nil, "", refuse("the report was made in %q, this run is in %q", p.Repository, gc.Repository)
	}
	head := t.HeadSHA
	if t.WorkflowRunHeadSHA != "" {
		head = t.WorkflowRunHeadSHA
	}
	if head == "" || !strings.EqualFold(p.HeadSHA, head) {
		return nil, "", refuse("the report is for commit %s, this run is for %s", shortSHA(p.HeadSHA), orNone(shortSHA(head)))
	}
	switch {
	case t.Number > 0:
		if p.PullRequest != t.Number {
			return nil, "", refuse("the report is for pull request #%d, this run is for #%d", p.PullRequest, t.Number)
		}
	case p.PullRequest > 0 && len(t.WorkflowRunPRs) > 0:
		found := false
		for _, n := range t.WorkflowRunPRs {
			found = found || n == p.PullRequest
		}
		if !found {
			return nil, "", refuse("the report names pull request #%d, which the workflow run is not about", p.PullRequest)
		}
		t.Number = p.PullRequest
	case p.PullRequest > 0:
		// workflow_run payloads list no pull request when it comes from a fork: ask GitHub.
		if gh == nil {
			return nil, "", refuse("cannot check pull request #%d without a github-token", p.PullRequest)
		}
		pr, err := gh.PullRequest(ctx, t.Owner, t.Repo, p.PullRequest)
		if err != nil {
			return nil, "", refuse("%v", err)
		}
		if !strings.EqualFold(pr.HeadSHA, head) {
			return nil, "", refuse("pull request #%d is at %s, not at the run's commit %s", p.PullRequest, shortSHA(pr.HeadSHA), shortSHA(head))
		}
		t.Number = p.PullRequest
	}
	t.HeadSHA = head
	if t.Number > 0 {
		t.HeadLabel = "#" + strconv.Itoa(t.Number) + " @ " + shortSHA(head)
	}
	if t.BaseSHA == "" && p.BaseSHA != "" {
		t.BaseSHA = p.BaseSHA
		t.BaseLabel = shortSHA(p.BaseSHA)
	}
	if rep.Dockerfile == "" && in.Dockerfile != "" {
		if _, rel, err := ws.resolve(in.Dockerfile); err == nil || errors.Is(err, fs.ErrNotExist) {
			rep.Dockerfile = rel
		}
	}
	return rep, p.CommentKey, nil
}

// commentStatus is what happened to the pull request comment, for the log and the summary.
type commentStatus struct {
	url    string
	action string // github.Created etc., or "" when no comment was attempted
	reason string // why there is none
}

func (r *runner) comment(ctx context.Context, l *logger, in inputs, key string, t target, gh *github.Client, rep *analyze.Report, mo render.MarkdownOptions) commentStatus {
	if in.Comment == CommentNever {
		return commentStatus{reason: "comment: never"}
	}
	if t.Number == 0 {
		printOpts := mo
		printOpts.MaxBytes = maxSummaryBytes
		if t.EmptyPayload {
			l.noticef("No pull request in the event payload (act's default {}?): the report is printed below and no comment is written.")
		} else {
			l.infof("%s event without a pull request: no comment; the report is in the job summary.", orNone(t.Event))
		}
		l.block("layerdiff report", r.markdown(rep, printOpts))
		return commentStatus{reason: "no pull request"}
	}
	if gh == nil {
		l.warnf("no github-token: cannot comment on pull request #%d", t.Number)
		return commentStatus{reason: "no github-token"}
	}
	id, err := gh.Identity(ctx)
	if err != nil {
		return r.commentFailed(l, t, err)
	}
	if id.Source == "fallback" {
		l.infof("the token's user is unknown (GET /user and the GraphQL viewer refused); assuming %s", id.Login)
	}
	marker := github.Marker(key)
	body := l.redact(r.renderCapped(rep, mo, github.MaxCommentChars-len(marker)-1))
	res, err := gh.Upsert(ctx, github.Sticky{
		Owner: t.Owner, Repo: t.Repo, Number: t.Number, Key: key,
		Body: body, Create: in.Comment == CommentAlways || rebuilt(rep), Author: id.Login,
		// GitHub may count the body longer than we do (422 "body is too long"): half of what it
		// refused, cut at a line with <details> closed and a link to the run, is sent once more.
		Shrink: func() string { return l.redact(r.renderCapped(rep, mo, len(body)/2)) },
	})
	if err != nil {
		return r.commentFailed(l, t, err)
	}
	if res.Shrunk {
		l.infof("GitHub refused the comment as too long (HTTP 422); sent it again cut to half its size")
	}
	switch res.Action {
	case github.Skipped:
		l.infof("nothing rebuilt and no earlier comment: no comment (comment: on-rebuild)")
		return commentStatus{action: res.Action, reason: "nothing rebuilt"}
	case github.Unchanged:
		l.infof("comment unchanged: %s", res.URL)
	default:
		l.infof("comment %s: %s", res.Action, res.URL)
	}
	if len(res.Removed) > 0 {
		l.infof("removed %d duplicate comment(s) left by a concurrent run", len(res.Removed))
	}
	return commentStatus{url: res.URL, action: res.Action}
}

func (r *runner) commentFailed(l *logger, t target, err error) commentStatus {
	switch github.StatusCode(err) {
	case 403, 404:
		l.warnf("cannot comment on pull request #%d (HTTP %d): the token is read-only here — pull requests from forks and Dependabot get a read-only GITHUB_TOKEN. Give the job `permissions: pull-requests: write`, or post from a workflow_run job with report-file (see the fork-safe setup). The report is in the job summary.", t.Number, github.StatusCode(err))
		return commentStatus{reason: "the token cannot write comments"}
	case 422:
		l.warnf("GitHub refused the comment on pull request #%d (HTTP 422), also when cut to half its size: %v. The report is in the job summary.", t.Number, err)
		return commentStatus{reason: "GitHub refused the comment body"}
	}
	l.warnf("cannot comment on pull request #%d: %v", t.Number, err)
	return commentStatus{reason: "GitHub API error"}
}

// renderCapped renders within limit bytes. Capping is the renderer's job; this only guarantees
// the limit if a renderer ever overshoots.
func (r *runner) renderCapped(rep *analyze.Report, mo render.MarkdownOptions, limit int) string {
	mo.MaxBytes = limit
	return capMarkdown(r.markdown(rep, mo), limit, mo.RunURL)
}

func (r *runner) summary(l *logger, getenv func(string) string, rep *analyze.Report, mo render.MarkdownOptions, st commentStatus) {
	if getenv("GITHUB_STEP_SUMMARY") == "" {
		return
	}
	var tail string
	switch {
	case st.url != "":
		tail = fmt.Sprintf("\n\n<sub>Pull request comment: [%s](%s)</sub>\n", st.action, st.url)
	case st.reason != "":
		tail = "\n\n<sub>No pull request comment: " + mdsafe.Escape(st.reason) + ".</sub>\n"
	}
	body := r.renderCapped(rep, mo, maxSummaryBytes-len(tail)-1) + tail
	defer func() {
		if p := recover(); p != nil {
			l.warnf("writing the job summary: %v", p)
		}
	}()
	l.a.AddStepSummary(l.redact(body))
}

// annotate puts a warning on the Dockerfile line of each root cause (GitHub shows at most ten
// warnings per step, so operational warnings already issued take their share first).
func (r *runner) annotate(l *logger, rep *analyze.Report) {
	if rep.Dockerfile == "" {
		return
	}
	steps := map[int]analyze.Step{}
	for _, s := range rep.Steps {
		steps[s.Index] = s
	}
	budget := maxAnnotations - l.warnings
	for _, rc := range rep.Summary.RootCauses {
		if budget <= 0 {
			return
		}
		s, ok := steps[rc.Step]
		if !ok || s.Line <= 0 {
			continue
		}
		msg := fmt.Sprintf("%s missed the layer cache (%s)", clip(s.Instruction, 200), rc.Kind)
		if s.Cause != nil && s.Cause.Detail != "" {
			msg += ": " + clip(s.Cause.Detail, 300)
		}
		l.annotate(rep.Dockerfile, s.Line, "layerdiff: cache miss", msg)
		budget--
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// capMarkdown cuts markdown to limit bytes at a line boundary, closes what was left open
// (<details>, a code fence) and says where the rest is.
func capMarkdown(s string, limit int, runURL string) string {
	if len(s) <= limit {
		return s
	}
	note := "\n\n_Report cut to fit GitHub's size limit._\n"
	if runURL != "" {
		note = "\n\n_Report cut to fit GitHub's size limit; the full report is in the [workflow run](" + runURL + ")._\n"
	}
	for margin := 256; margin < limit; margin *= 2 {
		cut := s[:max(limit-len(note)-margin, 0)]
		if i := strings.LastIndex(cut, "\n"); i >= 0 {
			cut = cut[:i]
		}
		var closing string
		if strings.Count("\n"+cut, "\n```")%2 == 1 {
			closing += "\n```"
		}
		for range strings.Count(cut, "<details") - strings.Count(cut, "</details>") {
			closing += "\n</details>"
		}
		if out := cut + closing + note; len(out) <= limit {
			return out
		}
	}
	return note[2:]
}
