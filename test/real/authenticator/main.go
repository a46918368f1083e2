// Command authenticator answers, with aws-iam-authenticator's own released code, what an
// aws-auth ConfigMap maps a caller to. The tests start it once per run (test/real/) and ask
// it many questions: one JSON object a line on stdin, one answer a line on stdout.
//
// It parses and matches nothing itself: parsing is configmap.ParseMap, ARN canonicalization
// is arn.Canonicalize, matching is RoleMapping.Matches and UserMapping.Matches. Only the
// store-and-lookup loop is written out here, because the release keeps it unexported
// (pkg/mapper/configmap/configmap.go at v0.7.18: MapStore.saveMap, RoleMapping, UserMapping;
// pkg/mapper/configmap/mapper.go: ConfigMapMapper.Map; pkg/server/server.go: doMapping's
// mapAccounts fallback). Where two mappings match one caller the release picks whichever its
// Go map yields first, so this program returns every answer it could give.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"

	"sigs.k8s.io/aws-iam-authenticator/pkg/arn"
	"sigs.k8s.io/aws-iam-authenticator/pkg/config"
	"sigs.k8s.io/aws-iam-authenticator/pkg/mapper/configmap"
)

type question struct {
	// Data is the ConfigMap's data (mapRoles, mapUsers, mapAccounts).
	Data map[string]string `json:"data"`
	// Callers are ARNs as STS reports them: a role, an assumed-role session, a user.
	Callers []string `json:"callers"`
	// SSORoleMatch turns on the release's SSORoleMatch feature gate (alpha, off by default).
	SSORoleMatch bool `json:"ssoRoleMatch"`
}

type mapping struct {
	From     string   `json:"from"`
	Username string   `json:"username"`
	Groups   []string `json:"groups"`
}

type callerAnswer struct {
	Caller    string `json:"caller"`
	Canonical string `json:"canonical,omitempty"`
	Error     string `json:"error,omitempty"`
	// Mappings holds every answer the release may give (more than one: ambiguous).
	Mappings []mapping `json:"mappings"`
	// AccountAllowed: no mapping, but the account is in mapAccounts (username = canonical ARN, no groups).
	AccountAllowed bool `json:"accountAllowed"`
}

type answer struct {
	Version       string            `json:"version"`
	SectionErrors map[string]string `json:"sectionErrors"`
	Roles         int               `json:"roles"`
	Users         int               `json:"users"`
	Callers       []callerAnswer    `json:"callers"`
	Error         string            `json:"error,omitempty"`
}

// version is set by the build (-ldflags -X main.version=...).
var version = "unknown"

func ask(q question) answer {
	config.SSORoleMatchEnabled = q.SSORoleMatch
	a := answer{Version: version, SectionErrors: map[string]string{}, Callers: []callerAnswer{}}
	// Each section alone, to tell which one failed (ParseMap joins their errors into one).
	for _, section := range []string{"mapRoles", "mapUsers", "mapAccounts"} {
		if text, ok := q.Data[section]; ok {
			if _, _, _, err := configmap.ParseMap(map[string]string{section: text}); err != nil {
				a.SectionErrors[section] = err.Error()
			}
		}
	}
	userMappings, roleMappings, accounts, _ := configmap.ParseMap(q.Data)

	// MapStore.saveMap: keyed by Key(), a later mapping replaces an earlier one of the same key.
	users := map[string]config.UserMapping{}
	roles := map[string]config.RoleMapping{}
	allowed := map[string]bool{}
	for _, u := range userMappings {
		users[u.Key()] = u
	}
	for _, r := range roleMappings {
		roles[r.Key()] = r
	}
	for _, acct := range accounts {
		allowed[acct] = true
	}
	a.Roles, a.Users = len(roles), len(users)

	for _, caller := range q.Callers {
		ca := callerAnswer{Caller: caller, Mappings: []mapping{}}
		_, canonical, err := arn.Canonicalize(caller)
		if err != nil {
			ca.Error = err.Error()
			a.Callers = append(a.Callers, ca)
			continue
		}
		// ConfigMapMapper.Map lower-cases the canonical ARN, then RoleMapping, then UserMapping.
		lower := strings.ToLower(canonical)
		ca.Canonical = lower
		seen := map[string]bool{}
		add := func(m mapping) {
			groups := m.Groups
			if groups == nil {
				groups = []string{}
			}
			m.Groups = groups
			k, _ := json.Marshal(m)
			if !seen[string(k)] {
				seen[string(k)] = true
				ca.Mappings = append(ca.Mappings, m)
			}
		}
		for _, key := range sortedKeys(roles) {
			r := roles[key]
			if r.Matches(lower) {
				add(mapping{From: "mapRoles", Username: r.Username, Groups: r.Groups})
			}
		}
		if len(ca.Mappings) == 0 {
			for _, key := range sortedKeys(users) {
				u := users[key]
				if u.Matches(lower) {
					add(mapping{From: "mapUsers", Username: u.Username, Groups: u.Groups})
				}
			}
		}
		if len(ca.Mappings) == 0 {
			// server.go doMapping: the account id of the (lower-cased) canonical ARN.
			parts := strings.SplitN(canonical, ":", 6)
			if len(parts) == 6 && allowed[parts[4]] {
				ca.AccountAllowed = true
			}
		}
		a.Callers = append(a.Callers, ca)
	}
	return a
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// serve answers questions POSTed to / on a loopback address, and prints that address.
func serve(listen string) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var q question
		if err == nil {
			err = json.Unmarshal(body, &q)
		}
		if err != nil {
			http.Error(w, fmt.Sprintf("bad question: %v", err), http.StatusBadRequest)
			return
		}
		mu.Lock()
		a := ask(q)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(a)
	})
	if err := http.Serve(ln, handler); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// mu serializes questions: ask sets the release's package-level feature gate.
var mu sync.Mutex

func main() {
	listen := flag.String("listen", "", "answer over HTTP on this loopback address (e.g. 127.0.0.1:0) instead of stdin/stdout")
	flag.Parse()
	if *listen != "" {
		serve(*listen)
		return
	}
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		line, err := in.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			var q question
			var a answer
			if jerr := json.Unmarshal(line, &q); jerr != nil {
				a = answer{Version: version, Error: fmt.Sprintf("bad question: %v", jerr)}
			} else {
				a = ask(q)
			}
			if eerr := enc.Encode(a); eerr != nil {
				fmt.Fprintln(os.Stderr, eerr)
				os.Exit(1)
			}
			out.Flush()
		}
		if err != nil {
			return
		}
	}
}
