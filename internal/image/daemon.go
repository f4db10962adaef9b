package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/layerdiff/layerdiff/analyze"
)

// prefixDockerDaemon selects an image of the local Docker Engine: "docker-daemon:app:tag".
const prefixDockerDaemon = "docker-daemon:"

// defaultDockerHost is where the Engine listens unless DOCKER_HOST says otherwise; GitHub's
// runner mounts this socket into container actions.
const defaultDockerHost = "unix:///var/run/docker.sock"

// maxDaemonAnswer bounds what is read of one Engine API answer; an inspect or a history of a
// real image is a few kilobytes.
const maxDaemonAnswer = 8 << 20

// loadDaemon reads an image from the Docker Engine named by DOCKER_HOST (default the local
// socket), through the two Engine API calls that describe an image without exporting it:
// GET /images/{name}/json (diff IDs, image ID, platform) and GET /images/{name}/history (the
// build steps). go-containerregistry's daemon package is not used: its ConfigFile lists the
// history newest first and marks every step whose layer holds no file bytes as an empty layer,
// so a BuildKit `WORKDIR /app` (a real layer of 0 bytes) shifts every later step onto the wrong
// layer; and its Digest and Manifest export the whole image (ImageSave).
//
// What the daemon cannot tell is reported as such: it keeps layers uncompressed and never had a
// manifest, so a layer's Digest is its diff ID and its Size the uncompressed bytes of the files
// it adds (what `docker history` shows), not the compressed size a registry push costs; the
// image's Digest is its image ID (the config digest, what `docker images` shows).
func loadDaemon(ctx context.Context, ref string) (*analyze.Image, error) {
	if ref == "" || strings.ContainsAny(ref, "?# \t\n") {
		return nil, fmt.Errorf("invalid Docker daemon image name %q: want docker-daemon:NAME[:TAG], docker-daemon:NAME@DIGEST or docker-daemon:IMAGE-ID", ref)
	}
	c, err := newDaemonClient(os.Getenv("DOCKER_HOST"))
	if err != nil {
		return nil, err
	}
	var inspect daemonInspect
	if err := c.get(ctx, "/images/"+escapeImageName(ref)+"/json", &inspect); err != nil {
		return nil, err
	}
	if inspect.ID == "" {
		return nil, errors.New("the Docker daemon described the image without an ID")
	}
	// Ask for the history by ID: the tag may move to another image between the two calls.
	var hist []daemonHistory
	if err := c.get(ctx, "/images/"+escapeImageName(inspect.ID)+"/history", &hist); err != nil {
		return nil, err
	}
	entries := oldestFirst(hist)
	var upTo map[int]int
	if ambiguous(entries, len(inspect.RootFS.Layers)) {
		if upTo, err = c.layerCounts(ctx, entries); err != nil {
			return nil, err
		}
	}
	return daemonImage(inspect, entries, upTo)
}

// layerCounts asks for the layers of the images that the classic builder left behind for each
// step (their IDs are in the history; BuildKit's steps and pulled base images say "<missing>"):
// upTo[i] is the number of layers of entries[0..i].
func (c *daemonClient) layerCounts(ctx context.Context, entries []daemonHistory) (map[int]int, error) {
	upTo := map[int]int{}
	for i, e := range entries {
		if e.ID == "" || e.ID == "<missing>" || len(upTo) >= maxStepInspects {
			continue
		}
		var step daemonInspect
		err := c.get(ctx, "/images/"+escapeImageName(e.ID)+"/json", &step)
		if errors.Is(err, ErrNotFound) {
			continue // removed since, e.g. by `docker image prune`
		} else if err != nil {
			return nil, err
		}
		upTo[i] = len(step.RootFS.Layers)
	}
	return upTo, nil
}

// maxStepInspects bounds the extra requests for one image.
const maxStepInspects = 500

// daemonInspect is the part of GET /images/{name}/json that layerdiff reads.
type daemonInspect struct {
	ID           string `json:"Id"`
	Os           string `json:"Os"`
	Architecture string `json:"Architecture"`
	Variant      string `json:"Variant"`
	RootFS       struct {
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
}

// daemonHistory is one entry of GET /images/{name}/history. The Engine lists them newest first;
// Size is the layer's bytes for an entry that made a layer and 0 for one that did not, but also
// 0 for a layer that holds only directories, empty files or deletions. The Engine does not say
// which entries made layers.
type daemonHistory struct {
	ID        string `json:"Id"`
	Created   int64  `json:"Created"`
	CreatedBy string `json:"CreatedBy"`
	Size      int64  `json:"Size"`
	Comment   string `json:"Comment"`
}

// oldestFirst reverses the Engine's newest-first history.
func oldestFirst(hist []daemonHistory) []daemonHistory {
	n := len(hist)
	entries := make([]daemonHistory, n)
	for i, h := range hist {
		entries[n-1-i] = h
	}
	return entries
}

// daemonImage turns the Engine's answers into an image: the history (oldest first), each entry
// marked as making a layer or not so that the layer entries line up with RootFS.Layers. upTo
// (may be nil) holds known numbers of layers up to an entry, see layerCounts.
func daemonImage(inspect daemonInspect, entries []daemonHistory, upTo map[int]int) (*analyze.Image, error) {
	n := len(entries)
	diffIDs := inspect.RootFS.Layers
	layer, err := layerEntries(entries, len(diffIDs), upTo)
	if err != nil {
		// Counts from step images that are not this build's own (a squashed or committed image)
		// can contradict; the order alone still gives an answer.
		if upTo == nil {
			return nil, err
		}
		if layer, err = layerEntries(entries, len(diffIDs), nil); err != nil {
			return nil, err
		}
	}

	img := &analyze.Image{
		Digest:   inspect.ID,
		Platform: daemonPlatform(inspect),
		History:  make([]analyze.HistoryEntry, n),
		Layers:   make([]analyze.ImageLayer, 0, len(diffIDs)),
	}
	for i, e := range entries {
		img.History[i] = analyze.HistoryEntry{
			Created:    time.Unix(e.Created, 0).UTC(),
			CreatedBy:  e.CreatedBy,
			Comment:    e.Comment,
			EmptyLayer: !layer[i],
		}
		if layer[i] {
			d := diffIDs[len(img.Layers)]
			img.Layers = append(img.Layers, analyze.ImageLayer{
				Digest:    d,
				DiffID:    d,
				Size:      e.Size,
				MediaType: "application/vnd.docker.image.rootfs.diff.tar",
			})
		}
	}
	return img, nil
}

// layerEntries decides which history entries (oldest first) made the image's nLayers layers.
// An entry with bytes made one. Of those without, the layers still missing are given to the
// entries that can make a layer (not ENV, ARG, LABEL, CMD… nor `WORKDIR /`, which never do),
// COPY and ADD first (a copy almost always writes something), then WORKDIR (a new directory),
// then RUN and the rest (a RUN that only creates directories, empty files or deletes files),
// earliest first within a kind. The Engine's BuildKit keeps a layer for every other step,
// even one that changed nothing, so its images never leave a choice; the classic builder
// drops steps that changed nothing, and for it upTo (see layerCounts) pins every step down.
// Only where those counts are gone (`docker image prune`) can a RUN that changed nothing be
// taken for one that made an empty directory.
func layerEntries(entries []daemonHistory, nLayers int, upTo map[int]int) ([]bool, error) {
	layer := make([]bool, len(entries))
	if len(entries) == 0 {
		if nLayers > 0 {
			return nil, fmt.Errorf("the Docker daemon lists %d layers and no history", nLayers)
		}
		return layer, nil
	}
	// Split the history where the number of layers so far is known, and fill each part.
	start, before := 0, 0
	for i := range entries {
		count, known := upTo[i]
		if i == len(entries)-1 {
			count, known = nLayers, true
		}
		if !known {
			continue
		}
		if err := fillLayers(entries[start:i+1], layer[start:i+1], count-before); err != nil {
			return nil, err
		}
		start, before = i+1, count
	}
	return layer, nil
}

// fillLayers marks want of entries as layers (see layerEntries).
func fillLayers(entries []daemonHistory, layer []bool, want int) error {
	withBytes := 0
	for i, e := range entries {
		if e.Size > 0 {
			layer[i] = true
			withBytes++
		}
	}
	missing := want - withBytes
	if missing < 0 {
		return fmt.Errorf("the Docker daemon lists %d history entries with content for %d layers", withBytes, want)
	}
	for rank := layerRankCopy; rank > layerRankNever && missing > 0; rank-- {
		for i, e := range entries {
			if missing == 0 {
				break
			}
			if !layer[i] && layerRank(e) == rank {
				layer[i] = true
				missing--
			}
		}
	}
	if missing > 0 {
		return fmt.Errorf("the Docker daemon lists %d layers for %d history entries that can make one", want, want-missing)
	}
	return nil
}

// ambiguous tells whether the sizes and instructions alone leave a choice of layer entries.
func ambiguous(entries []daemonHistory, nLayers int) bool {
	withBytes, candidates := 0, 0
	for _, e := range entries {
		switch {
		case e.Size > 0:
			withBytes++
		case layerRank(e) > layerRankNever:
			candidates++
		}
	}
	return candidates > nLayers-withBytes && nLayers >= withBytes
}

// How likely an entry without bytes is to have made a layer.
const (
	layerRankNever = iota
	layerRankOther
	layerRankWorkdir
	layerRankCopy
)

// metadataInstructions never make a layer, with any builder.
var metadataInstructions = map[string]bool{
	"ENV": true, "ARG": true, "LABEL": true, "CMD": true, "ENTRYPOINT": true, "EXPOSE": true,
	"USER": true, "VOLUME": true, "STOPSIGNAL": true, "HEALTHCHECK": true, "SHELL": true,
	"ONBUILD": true, "MAINTAINER": true,
}

// layerRank reads the instruction of a history entry in the forms the builders write:
// BuildKit's "ENV A=1", "WORKDIR /app", "COPY . . # buildkit", "RUN /bin/sh -c make # buildkit";
// the classic builder's and buildah's "/bin/sh -c #(nop)  ENV A=1", "/bin/sh -c #(nop) COPY
// file:… in /", "/bin/sh -c make", "|1 A=1 /bin/sh -c make"; `docker import`'s empty text.
func layerRank(e daemonHistory) int {
	s := strings.TrimSpace(e.CreatedBy)
	if i := strings.Index(s, "#(nop)"); i >= 0 {
		s = strings.TrimSpace(s[i+len("#(nop)"):])
	}
	word, arg, _ := strings.Cut(s, " ")
	word = strings.ToUpper(word)
	switch {
	case metadataInstructions[word]:
		return layerRankNever
	case word == "WORKDIR" && strings.TrimSpace(arg) == "/":
		// Both builders record it, and neither makes a layer of it: "/" always exists.
		return layerRankNever
	case word == "COPY" || word == "ADD" || s == "":
		return layerRankCopy
	case word == "WORKDIR":
		return layerRankWorkdir
	default:
		return layerRankOther
	}
}

func daemonPlatform(inspect daemonInspect) string {
	if inspect.Os == "" || inspect.Architecture == "" {
		return ""
	}
	p := inspect.Os + "/" + inspect.Architecture
	if inspect.Variant != "" {
		p += "/" + inspect.Variant
	}
	return p
}

// escapeImageName escapes a name for the Engine's /images/{name}/… routes, which take the
// slashes of "ghcr.io/acme/app:1" as they are.
func escapeImageName(name string) string {
	return strings.ReplaceAll(url.PathEscape(name), "%2F", "/")
}

// daemonClient speaks the Engine API over a unix socket or plain TCP.
type daemonClient struct {
	host string // as the user gave it, for messages
	base string
	http *http.Client
}

func newDaemonClient(host string) (*daemonClient, error) {
	if host == "" {
		host = defaultDockerHost
	}
	scheme, addr, ok := strings.Cut(host, "://")
	if !ok || addr == "" {
		return nil, fmt.Errorf("invalid DOCKER_HOST %q: want unix:///path/to/docker.sock or tcp://HOST:PORT", host)
	}
	tr := &http.Transport{DisableCompression: true, ResponseHeaderTimeout: time.Minute}
	c := &daemonClient{host: host, http: &http.Client{Transport: tr}}
	switch scheme {
	case "unix":
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", addr)
		}
		c.base = "http://docker"
	case "tcp", "http":
		if os.Getenv("DOCKER_TLS_VERIFY") != "" {
			return nil, fmt.Errorf("DOCKER_HOST %s with DOCKER_TLS_VERIFY: TLS connections to the Docker daemon are not supported; use its unix socket", host)
		}
		c.base = "http://" + strings.TrimSuffix(addr, "/")
	default:
		return nil, fmt.Errorf("DOCKER_HOST %s: the %s:// scheme is not supported; use unix:// or tcp://", host, scheme)
	}
	return c, nil
}

// get decodes the JSON answer of GET path into v. A 404 is ErrNotFound.
func (c *daemonClient) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "layerdiff")
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("asking the Docker daemon at %s: %w", c.host, ctx.Err())
		}
		return fmt.Errorf("cannot reach the Docker daemon at %s (is it running, and is its socket mounted? DOCKER_HOST names another): %w", c.host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDaemonAnswer+1))
	if err != nil {
		return fmt.Errorf("reading the Docker daemon's answer: %w", err)
	}
	if len(body) > maxDaemonAnswer {
		return fmt.Errorf("the Docker daemon's answer is larger than %d bytes", maxDaemonAnswer)
	}
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w: the Docker daemon at %s has no such image", ErrNotFound, c.host)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		msg := strings.TrimSpace(string(body))
		if json.Unmarshal(body, &e) == nil && e.Message != "" {
			msg = e.Message
		}
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return fmt.Errorf("the Docker daemon at %s answered %s: %s", c.host, resp.Status, msg)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decoding the Docker daemon's answer to %s: %w", path, err)
	}
	return nil
}
