package main

import (
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The development machines and CI have no Docker engine, so the Dockerfile and docker-compose.yml
// are checked statically here. The Dockerfile reader is a few lines (instructions, continuation
// lines, comments) rather than BuildKit's parser, which would pull in much of moby for one test.

type dockerInstr struct {
	cmd  string // upper case: FROM, RUN …
	args string
	line int
}

func readDockerfile(t *testing.T, path string) []dockerInstr {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []dockerInstr
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(b), "\n") {
		trim := strings.TrimSpace(line)
		if cur.Len() == 0 && (trim == "" || strings.HasPrefix(trim, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trim, "\\") {
			cur.WriteString(strings.TrimSuffix(trim, "\\") + " ")
			continue
		}
		cur.WriteString(trim)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstr{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start})
		cur.Reset()
	}
	if cur.Len() > 0 {
		t.Errorf("%s ends in a continuation line", path)
	}
	return out
}

// TestDockerfileLint checks the image's build and runtime contract: known instructions only; pinned
// stages; a static (cgo-free) build with the version stamped in; stage references that exist; a
// non-root user on a distroless final stage; exec-form ENTRYPOINT, CMD and HEALTHCHECK, the last one
// `kefu healthcheck` (the image has no curl); the ports kefu listens on exposed; every KEFU_* variable
// one kefu reads.
func TestDockerfileLint(t *testing.T) {
	ins := readDockerfile(t, "../../Dockerfile")
	known := []string{"FROM", "WORKDIR", "COPY", "RUN", "ARG", "ENV", "VOLUME", "EXPOSE", "USER", "HEALTHCHECK", "ENTRYPOINT", "CMD", "LABEL"}
	stages := map[string]bool{}
	var final []dockerInstr
	for _, in := range ins {
		if !slices.Contains(known, in.cmd) {
			t.Errorf("line %d: unknown or unexpected instruction %s", in.line, in.cmd)
		}
		switch in.cmd {
		case "FROM":
			f := strings.Fields(in.args)
			if strings.HasSuffix(f[0], ":latest") || !strings.Contains(f[0], ":") {
				t.Errorf("line %d: base image %s is not pinned to a tag", in.line, f[0])
			}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				stages[f[2]] = true
			}
			final = nil
		case "COPY":
			for _, f := range strings.Fields(in.args) {
				if from, ok := strings.CutPrefix(f, "--from="); ok && !stages[from] {
					t.Errorf("line %d: COPY --from=%s names no earlier stage", in.line, from)
				}
			}
		case "ADD":
			t.Errorf("line %d: ADD (use COPY)", in.line)
		}
		final = append(final, in)
	}
	all := func(cmd string) []dockerInstr {
		var out []dockerInstr
		for _, in := range ins {
			if in.cmd == cmd {
				out = append(out, in)
			}
		}
		return out
	}
	build := strings.Join(func() []string {
		var s []string
		for _, in := range all("RUN") {
			s = append(s, in.args)
		}
		return s
	}(), "\n")
	for _, want := range []string{"CGO_ENABLED=0", "-X main.version=${VERSION}", "-X main.commit=${COMMIT}", "./cmd/kefu"} {
		if !strings.Contains(build, want) {
			t.Errorf("the build lacks %q", want)
		}
	}
	if !slices.ContainsFunc(all("ARG"), func(in dockerInstr) bool { return strings.HasPrefix(in.args, "VERSION") }) {
		t.Error("no ARG VERSION")
	}
	if !strings.HasPrefix(final[0].args, "gcr.io/distroless/static") || !strings.Contains(final[0].args, "nonroot") {
		t.Errorf("final stage %q: want distroless static nonroot", final[0].args)
	}
	exec := regexp.MustCompile(`^\[.*\]$`)
	lastOf := func(cmd string) string {
		var v string
		for _, in := range final {
			if in.cmd == cmd {
				v = in.args
			}
		}
		return v
	}
	if u := lastOf("USER"); u == "" || strings.HasPrefix(u, "0") || strings.HasPrefix(u, "root") {
		t.Errorf("final USER %q: want a non-root user", u)
	}
	for _, c := range []string{"ENTRYPOINT", "CMD"} {
		if v := lastOf(c); !exec.MatchString(v) {
			t.Errorf("%s %q: want exec form", c, v)
		}
	}
	if hc := lastOf("HEALTHCHECK"); !strings.HasSuffix(hc, `CMD ["/usr/local/bin/kefu", "healthcheck"]`) {
		t.Errorf("HEALTHCHECK %q: want exec-form kefu healthcheck", hc)
	}
	if !strings.Contains(lastOf("ENTRYPOINT"), "/usr/local/bin/kefu") || !strings.Contains(build, "-o /out/kefu") {
		t.Error("the entrypoint is not the binary the build makes")
	}
	env := lastOf("ENV")
	vars := regexp.MustCompile(`(KEFU_[A-Z_]+)=(\S+)`).FindAllStringSubmatch(env, -1)
	got := map[string]string{}
	for _, v := range vars {
		got[v[1]] = v[2]
		if !knownEnvVar(v[1]) {
			t.Errorf("ENV %s: kefu reads no such variable", v[1])
		}
	}
	exposed := lastOf("EXPOSE")
	for _, k := range []string{"KEFU_ADDR", "KEFU_METRICS_ADDR"} {
		_, port, _ := strings.Cut(got[k], ":")
		if port == "" || !slices.Contains(strings.Fields(exposed), port) {
			t.Errorf("%s=%q: its port is not in EXPOSE %q", k, got[k], exposed)
		}
	}
}

// knownEnvVar reports whether kefu reads name: a kefu.yaml key, a secret, their *_FILE forms, the
// encryption key, or the few process-level variables.
func knownEnvVar(name string) bool {
	c := defaultConfig()
	base := strings.TrimSuffix(name, "_FILE")
	for _, s := range envSettings(&c) {
		if s.Env == base {
			return true
		}
	}
	for _, s := range secretEnv {
		if s.name == base {
			return true
		}
	}
	return slices.Contains([]string{"KEFU_ENCRYPTION_KEY", "KEFU_CONFIG", "KEFU_AGENT"}, base)
}

// TestComposeFileLint checks docker-compose.yml: kefu waits for a healthy PostgreSQL, is checked with
// `kefu healthcheck`, keeps its data in named volumes, gets its DSN and key from secrets (declared),
// reads only variables kefu knows, does not publish the metrics port, and Prometheus scrapes the
// metrics address kefu listens on.
func TestComposeFileLint(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	type service struct {
		Image       string
		Build       any
		DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
		Environment map[string]string
		Secrets     []string
		Ports       []string
		Volumes     []string
		Profiles    []string
		Healthcheck struct {
			Test []string
		}
	}
	var c struct {
		Services map[string]service
		Secrets  map[string]struct{ File string }
		Volumes  map[string]any
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	kefu, db := c.Services["kefu"], c.Services["db"]
	if kefu.Build == nil || !strings.HasPrefix(db.Image, "postgres:") {
		t.Fatalf("want a built kefu and a postgres db service: %+v", c.Services)
	}
	if kefu.DependsOn["db"].Condition != "service_healthy" || len(db.Healthcheck.Test) == 0 {
		t.Error("kefu must wait for a healthy db, which needs a health check")
	}
	if got := kefu.Healthcheck.Test; !slices.Equal(got, []string{"CMD", "/usr/local/bin/kefu", "healthcheck"}) {
		t.Errorf("kefu health check %v: want [CMD /usr/local/bin/kefu healthcheck]", got)
	}
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				if !strings.HasSuffix(v, ":ro") {
					t.Errorf("service %s: bind mount %q must be read-only (data belongs in named volumes)", name, v)
				}
				if _, err := os.Stat("../../" + strings.TrimPrefix(src, "./")); err != nil {
					t.Errorf("service %s: %s does not exist in the repository", name, src)
				}
				continue
			}
			if _, ok := c.Volumes[src]; !ok {
				t.Errorf("service %s: volume %s is not declared", name, src)
			}
		}
		for _, sec := range s.Secrets {
			if _, ok := c.Secrets[sec]; !ok {
				t.Errorf("service %s: secret %s is not declared", name, sec)
			}
		}
	}
	for k, v := range kefu.Environment {
		if !knownEnvVar(k) {
			t.Errorf("kefu environment %s: kefu reads no such variable", k)
		}
		if strings.HasSuffix(k, "_FILE") && strings.HasPrefix(v, "/run/secrets/") && !slices.Contains(kefu.Secrets, strings.TrimPrefix(v, "/run/secrets/")) {
			t.Errorf("%s=%s: the secret is not given to the kefu service", k, v)
		}
	}
	for _, want := range []string{"KEFU_DATABASE_URL_FILE", "KEFU_ENCRYPTION_KEY_FILE", "KEFU_METRICS_ADDR"} {
		if kefu.Environment[want] == "" {
			t.Errorf("kefu environment lacks %s", want)
		}
	}
	_, mport, _ := strings.Cut(kefu.Environment["KEFU_METRICS_ADDR"], ":")
	for _, p := range kefu.Ports {
		if strings.HasSuffix(p, ":"+mport) {
			t.Errorf("kefu publishes the metrics port (%s): keep it inside the compose network", p)
		}
	}
	prom, err := os.ReadFile("../../deploy/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(prom), `"kefu:`+mport+`"`) {
		t.Errorf("deploy/prometheus.yml does not scrape kefu:%s", mport)
	}
	if pr, ok := c.Services["prometheus"]; ok && !slices.Contains(pr.Profiles, "monitoring") {
		t.Error("prometheus should be an opt-in profile")
	}
}

// TestReadmeDeploymentCommands runs every kefu command the README's Deployment section shows, exactly
// as written and in order (those inside `docker compose exec kefu …` too), against a real server on a
// fresh database; the other lines must be plainly shell or docker commands.
func TestReadmeDeploymentCommands(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## Deployment\n")
	if start < 0 {
		t.Fatal("README has no Deployment section")
	}
	sec := text[start+1:]
	if end := strings.Index(sec[3:], "\n## "); end >= 0 {
		sec = sec[:end+3]
	}
	var lines []string
	in := false
	for _, l := range strings.Split(sec, "\n") {
		switch {
		case strings.HasPrefix(l, "```"):
			in = !in
		case in && strings.TrimSpace(l) != "":
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	dir := t.TempDir()
	t.Chdir(dir)
	dsn := dir + "/kefu.db"
	t.Setenv("KEFU_DATABASE_URL", dsn)
	t.Setenv("KEFU_METRICS_ADDR", "off")
	s := startServer(t, dsn)
	t.Setenv("KEFU_ADDR", strings.TrimPrefix(s.url, "http://127.0.0.1"))
	shell := []string{"mkdir ", "openssl ", "printf ", "cp "}
	ran := 0
	for _, l := range lines {
		cmd := l
		if rest, ok := strings.CutPrefix(l, "docker compose exec kefu "); ok {
			cmd = rest
		} else if strings.HasPrefix(l, "docker ") || slices.ContainsFunc(shell, func(p string) bool { return strings.HasPrefix(l, p) }) {
			continue
		}
		args, ok := strings.CutPrefix(cmd, "kefu ")
		if !ok {
			t.Errorf("README Deployment: %q is neither a kefu command nor plainly a shell/docker command", l)
			continue
		}
		if strings.ContainsAny(args, `"'$|<>;&`) {
			t.Errorf("README Deployment: %q needs a shell; keep kefu commands plain", l)
			continue
		}
		if strings.HasPrefix(args, "restore") {
			s.stop() // the README says: stop kefu first
		}
		var stderr strings.Builder
		if code := run(t.Context(), strings.Fields(args), io.Discard, &stderr); code != 0 {
			t.Errorf("README Deployment: %q exits %d: %s", l, code, stderr.String())
		}
		ran++
	}
	if ran < 5 {
		t.Errorf("ran %d kefu commands from the Deployment section; want the version, migrate, healthcheck, backup and restore ones", ran)
	}
}
