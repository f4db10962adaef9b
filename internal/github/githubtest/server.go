package githubtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request the server received.
type Request struct {
	Method string
	Path   string // without the server's prefix, e.g. /repos/o/r/issues/2/comments
	Query  url.Values
	// Authorization is the header as sent.
	Authorization string
	Body          string
}

// Comment is an issue comment stored by the server.
type Comment struct {
	ID      int64
	Issue   string // "owner/repo#n"
	Author  string
	Body    string
	Created time.Time
}

// PullRequest is a pull request the server knows.
type PullRequest struct {
	HeadSHA, BaseSHA string
	Files            []string
}

// Response is a scripted answer.
type Response struct {
	Status int
	Header map[string]string
	Body   string
}

// Server is a fake GitHub. Its fields may be set before the first request; use the methods
// afterwards.
type Server struct {
	*httptest.Server
	// Prefix is where the REST API lives: "" like api.github.com, "/api/v3" like GHES.
	Prefix string

	mu       sync.Mutex
	t        testing.TB
	users    map[string]string // token -> login answered by GET /user
	apps     map[string]string // token -> bot login answered by GraphQL viewer (GET /user is 403)
	comments []*Comment
	nextID   int64
	pulls    map[string]PullRequest // "owner/repo#n"
	compares map[string][]string    // "owner/repo base...head"
	scripts  map[string][]Response  // "METHOD path" -> answers to give before the real one
	requests []Request
	maxBody  int // longest comment body accepted, in characters
}

// New starts a server; it is closed when the test ends. prefix is "" or e.g. "/api/v3".
func New(t testing.TB, prefix string) *Server {
	s := &Server{
		Prefix:   strings.TrimSuffix(prefix, "/"),
		t:        t,
		users:    map[string]string{},
		apps:     map[string]string{},
		pulls:    map[string]PullRequest{},
		compares: map[string][]string{},
		scripts:  map[string][]Response{},
		nextID:   1000,
		maxBody:  MaxCommentChars,
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// APIURL is what GITHUB_API_URL would be.
func (s *Server) APIURL() string { return s.URL + s.Prefix }

// GraphQLURL is what GITHUB_GRAPHQL_URL would be.
func (s *Server) GraphQLURL() string {
	if s.Prefix == "/api/v3" {
		return s.URL + "/api/graphql"
	}
	return s.URL + s.Prefix + "/graphql"
}

// AddUser makes token a personal token of login.
func (s *Server) AddUser(token, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[token] = login
	delete(s.apps, token)
}

// AddApp makes token an installation token of a GitHub App whose bot is login (GraphQL
// answers login without "[bot]", as GitHub does for bots).
func (s *Server) AddApp(token, login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[token] = login
	delete(s.users, token)
}

// AddPull registers a pull request of repo ("owner/repo").
func (s *Server) AddPull(repo string, number int, pr PullRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pulls[fmt.Sprintf("%s#%d", repo, number)] = pr
}

// AddCompare registers the files of the comparison base...head in repo.
func (s *Server) AddCompare(repo, base, head string, files []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compares[repo+" "+base+"..."+head] = files
}

// AddComment stores a comment as if author had written it, and returns its ID.
func (s *Server) AddComment(repo string, number int, author, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addComment(fmt.Sprintf("%s#%d", repo, number), author, body).ID
}

func (s *Server) addComment(issue, author, body string) *Comment {
	s.nextID++
	c := &Comment{ID: s.nextID, Issue: issue, Author: author, Body: body, Created: time.Unix(1700000000+s.nextID, 0).UTC()}
	s.comments = append(s.comments, c)
	return c
}

// MaxCommentChars is GitHub's limit on a comment body, in characters.
const MaxCommentChars = 65536

// SetMaxCommentChars makes creating or editing a comment with a body longer than n characters
// fail the way GitHub does (see BodyTooLong); the default is GitHub's MaxCommentChars.
func (s *Server) SetMaxCommentChars(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxBody = n
}

// BodyTooLong is GitHub's answer to a comment body over its limit: 422 with a validation error
// on the body. Pass it to Script to refuse a body of any size.
func BodyTooLong() Response {
	body, _ := json.Marshal(map[string]any{
		"message": "Validation Failed",
		"errors": []map[string]string{{
			"resource": "IssueComment", "code": "unprocessable", "field": "data",
			"message": fmt.Sprintf("Body is too long (maximum is %d characters)", MaxCommentChars),
		}},
		"documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
		"status":            "422",
	})
	return Response{Status: http.StatusUnprocessableEntity, Body: string(body)}
}

func (s *Server) tooLong(w http.ResponseWriter, body string) bool {
	if len([]rune(body)) <= s.maxBody {
		return false
	}
	tl := BodyTooLong()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(tl.Status)
	io.WriteString(w, tl.Body)
	return true
}

// Script makes the next len(rs) requests to "METHOD path" get rs, in order, before the server
// answers normally again.
func (s *Server) Script(method, path string, rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := method + " " + path
	s.scripts[k] = append(s.scripts[k], rs...)
}

// Comments returns the comments of repo#number, oldest first.
func (s *Server) Comments(repo string, number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	issue := fmt.Sprintf("%s#%d", repo, number)
	var out []Comment
	for _, c := range s.comments {
		if c.Issue == issue {
			out = append(out, *c)
		}
	}
	return out
}

// Requests returns every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count counts the requests with method whose path has the given prefix.
func (s *Server) Count(method, pathPrefix string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == method && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}

// Reset forgets the recorded requests (not the comments).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path := r.URL.Path
	graphql := r.URL.Path == strings.TrimPrefix(s.GraphQLURL(), s.URL)
	if !graphql {
		if !strings.HasPrefix(path, s.Prefix+"/") {
			http.NotFound(w, r)
			return
		}
		path = strings.TrimPrefix(path, s.Prefix)
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: path, Query: r.URL.Query(), Authorization: r.Header.Get("Authorization"), Body: string(body)})
	k := r.Method + " " + path
	if q := s.scripts[k]; len(q) > 0 {
		s.scripts[k] = q[1:]
		s.mu.Unlock()
		for h, v := range q[0].Header {
			w.Header().Set(h, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(q[0].Status)
		io.WriteString(w, q[0].Body)
		return
	}
	defer s.mu.Unlock()

	token := strings.TrimPrefix(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), "token ")
	login, isUser := s.users[token]
	bot, isApp := s.apps[token]
	if !isUser && !isApp {
		writeError(w, http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest")
		return
	}
	author := login
	if isApp {
		author = bot + "[bot]"
	}

	if graphql {
		if r.Method != http.MethodPost || !strings.Contains(string(body), "viewer") {
			writeError(w, http.StatusBadRequest, "unexpected GraphQL request", "")
			return
		}
		name := login
		if isApp {
			name = bot
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"viewer": map[string]any{"login": name}}})
		return
	}

	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && path == "/user":
		if isApp {
			writeError(w, http.StatusForbidden, "Resource not accessible by integration", "https://docs.github.com/rest/users/users#get-the-authenticated-user")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"login": login, "id": 1, "type": "User"})

	case len(parts) == 6 && parts[0] == "repos" && parts[3] == "issues" && parts[5] == "comments":
		n, err := strconv.Atoi(parts[4])
		if err != nil {
			http.NotFound(w, r)
			return
		}
		issue := fmt.Sprintf("%s/%s#%d", parts[1], parts[2], n)
		switch r.Method {
		case http.MethodGet:
			var list []*Comment
			for _, c := range s.comments {
				if c.Issue == issue {
					list = append(list, c)
				}
			}
			page := s.paginate(w, r, len(list))
			out := []map[string]any{}
			for _, c := range list[page[0]:page[1]] {
				out = append(out, s.commentJSON(c))
			}
			writeJSON(w, http.StatusOK, out)
		case http.MethodPost:
			var in struct {
				Body *string `json:"body"`
			}
			if json.Unmarshal(body, &in) != nil || in.Body == nil {
				writeError(w, http.StatusUnprocessableEntity, "Invalid request.", "")
				return
			}
			if s.tooLong(w, *in.Body) {
				return
			}
			c := s.addComment(issue, author, *in.Body)
			writeJSON(w, http.StatusCreated, s.commentJSON(c))
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}

	case len(parts) == 6 && parts[0] == "repos" && parts[3] == "issues" && parts[4] == "comments":
		id, err := strconv.ParseInt(parts[5], 10, 64)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		idx := -1
		for i, c := range s.comments {
			if c.ID == id && strings.HasPrefix(c.Issue, parts[1]+"/"+parts[2]+"#") {
				idx = i
			}
		}
		if idx < 0 {
			writeError(w, http.StatusNotFound, "Not Found", "")
			return
		}
		switch r.Method {
		case http.MethodPatch:
			var in struct {
				Body *string `json:"body"`
			}
			if json.Unmarshal(body, &in) != nil || in.Body == nil {
				writeError(w, http.StatusUnprocessableEntity, "Invalid request.", "")
				return
			}
			if s.tooLong(w, *in.Body) {
				return
			}
			s.comments[idx].Body = *in.Body
			writeJSON(w, http.StatusOK, s.commentJSON(s.comments[idx]))
		case http.MethodDelete:
			s.comments = append(s.comments[:idx], s.comments[idx+1:]...)
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}

	case len(parts) == 5 && parts[0] == "repos" && parts[3] == "pulls":
		pr, ok := s.pulls[parts[1]+"/"+parts[2]+"#"+parts[4]]
		if !ok || r.Method != http.MethodGet {
			writeError(w, http.StatusNotFound, "Not Found", "")
			return
		}
		n, _ := strconv.Atoi(parts[4])
		writeJSON(w, http.StatusOK, map[string]any{
			"number": n, "state": "open",
			"head": map[string]any{"sha": pr.HeadSHA}, "base": map[string]any{"sha": pr.BaseSHA},
		})

	case len(parts) == 6 && parts[0] == "repos" && parts[3] == "pulls" && parts[5] == "files":
		pr, ok := s.pulls[parts[1]+"/"+parts[2]+"#"+parts[4]]
		if !ok || r.Method != http.MethodGet {
			writeError(w, http.StatusNotFound, "Not Found", "")
			return
		}
		page := s.paginate(w, r, len(pr.Files))
		out := []map[string]any{}
		for _, f := range pr.Files[page[0]:page[1]] {
			out = append(out, map[string]any{"filename": f, "status": "modified"})
		}
		writeJSON(w, http.StatusOK, out)

	case len(parts) >= 5 && parts[0] == "repos" && parts[3] == "compare" && r.Method == http.MethodGet:
		basehead := strings.Join(parts[4:], "/")
		files, ok := s.compares[parts[1]+"/"+parts[2]+" "+basehead]
		if !ok {
			writeError(w, http.StatusNotFound, "Not Found", "")
			return
		}
		page := s.paginate(w, r, len(files))
		out := []map[string]any{}
		for _, f := range files[page[0]:page[1]] {
			out = append(out, map[string]any{"filename": f, "status": "modified"})
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ahead", "files": out})

	default:
		writeError(w, http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
	}
}

func (s *Server) commentJSON(c *Comment) map[string]any {
	repo, n, _ := strings.Cut(c.Issue, "#")
	return map[string]any{
		"id":         c.ID,
		"body":       c.Body,
		"user":       map[string]any{"login": c.Author},
		"html_url":   fmt.Sprintf("https://github.com/%s/pull/%s#issuecomment-%d", repo, n, c.ID),
		"created_at": c.Created.Format(time.RFC3339),
	}
}

// paginate applies per_page (default 30, at most 100) and page, sets the Link header the way
// GitHub does, and returns the slice bounds.
func (s *Server) paginate(w http.ResponseWriter, r *http.Request, total int) [2]int {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	per = min(per, 100)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	last := max((total+per-1)/per, 1)
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(per))
		return fmt.Sprintf(`<%s%s?%s>; rel="%s"`, s.URL, r.URL.Path, q.Encode(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo := min((page-1)*per, total)
	hi := min(lo+per, total)
	return [2]int{lo, hi}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg, doc string) {
	writeJSON(w, status, map[string]any{"message": msg, "documentation_url": doc, "status": strconv.Itoa(status)})
}
