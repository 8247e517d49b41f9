package jobs

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// imageUser is the user the Dockerfile's final stage runs as.
const imageUser = 65532

// graceMargin is what terminationGracePeriodSeconds must leave after the
// drain timeout: writing the checkpoint and the report.
const graceMargin = 15 * time.Second

// runtimeEnv are variables read by the Go runtime, not by the commands.
var runtimeEnv = []string{"GOMEMLIMIT"}

// workload is a CronJob or Job and the pod template it runs.
type workload struct {
	file string
	name string
	job  *batchv1.JobSpec
	cron *batchv1.CronJob
}

func (w workload) pod() *corev1.PodSpec { return &w.job.Template.Spec }

// split sorts the decoded manifests into workloads, the ConfigMap and the
// Secret template.
func split(t *testing.T, objs []object) (ws []workload, cm *corev1.ConfigMap, secret *corev1.Secret) {
	t.Helper()
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *batchv1.CronJob:
			ws = append(ws, workload{file: o.file, name: v.Name, job: &v.Spec.JobTemplate.Spec, cron: v})
		case *batchv1.Job:
			ws = append(ws, workload{file: o.file, name: v.Name, job: &v.Spec})
		case *corev1.ConfigMap:
			cm = v
		case *corev1.Secret:
			secret = v
		}
	}
	if len(ws) != 5 || cm == nil || secret == nil {
		t.Fatalf("found %d workloads, ConfigMap %v, Secret %v; want 5, one and one", len(ws), cm != nil, secret != nil)
	}
	return ws, cm, secret
}

// helpTexts builds the commands (from the parent module) and returns the
// -h text of every "binary subcommand" the containers run.
func helpTexts(t *testing.T, ws []workload) map[string]string {
	t.Helper()
	bin := t.TempDir()
	args := []string{"build", "-o", bin + string(os.PathSeparator)}
	// With cgo on, build as make test's go test -race does, so the build
	// reuses its compile cache instead of compiling everything again.
	if out, err := exec.Command("go", "env", "CGO_ENABLED").Output(); err == nil && strings.TrimSpace(string(out)) == "1" {
		args = append(args, "-race")
	}
	args = append(args, "./cmd/reconcile", "./cmd/loadgen")
	build := exec.Command("go", args...)
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	help := map[string]string{}
	for _, w := range ws {
		for _, c := range w.pod().Containers {
			if len(c.Command) < 2 {
				t.Fatalf("%s: container %s command %q: want the binary and its subcommand", w.file, c.Name, c.Command)
			}
			key := path.Base(c.Command[0]) + " " + c.Command[1]
			if _, ok := help[key]; ok {
				continue
			}
			out, err := exec.Command(filepath.Join(bin, path.Base(c.Command[0])), c.Command[1], "-h").CombinedOutput()
			if err != nil {
				t.Fatalf("%s -h: %v\n%s", key, err, out)
			}
			help[key] = string(out)
		}
	}
	return help
}

// refs are the $(NAME) references Kubernetes expands in env values and
// commands.
var refs = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// TestWiring checks each container against the command it runs and the
// objects it reads: every variable is one the command reads (its -h names
// it), every ConfigMap and Secret key exists, the shard count matches the
// Job's completions, and the grace period covers the drain timeout.
func TestWiring(t *testing.T) {
	ws, cm, secret := split(t, load(t))
	help := helpTexts(t, ws)
	used := map[string]bool{}
	for _, w := range ws {
		t.Run(w.name, func(t *testing.T) {
			for _, c := range w.pod().Containers {
				env := checkEnv(t, w, c, cm, secret, help[path.Base(c.Command[0])+" "+c.Command[1]], used)
				checkShards(t, w, env)
				checkDrain(t, w, c, env, help[path.Base(c.Command[0])+" "+c.Command[1]])
				checkPaths(t, w, c, env)
			}
		})
	}
	for k := range cm.Data {
		if !used[k] {
			t.Errorf("ConfigMap key %s is read by no container: a knob that does nothing", k)
		}
	}
}

// checkEnv checks c's variables and returns their values, from the
// manifest or the ConfigMap ("" for secrets and field references).
func checkEnv(t *testing.T, w workload, c corev1.Container, cm *corev1.ConfigMap, secret *corev1.Secret, help string, used map[string]bool) map[string]string {
	t.Helper()
	env := map[string]string{}
	referenced := map[string]bool{}
	for _, e := range c.Env {
		for _, m := range refs.FindAllStringSubmatch(e.Value, -1) {
			referenced[m[1]] = true
		}
	}
	for _, arg := range c.Command {
		for _, m := range refs.FindAllStringSubmatch(arg, -1) {
			referenced[m[1]] = true
		}
	}
	for _, e := range c.Env {
		if _, dup := env[e.Name]; dup {
			t.Errorf("%s: %s is set twice", w.file, e.Name)
		}
		// Kubernetes expands only variables defined earlier in the list.
		for _, m := range refs.FindAllStringSubmatch(e.Value, -1) {
			if _, ok := env[m[1]]; !ok {
				t.Errorf("%s: %s refers to $(%s), which is not defined before it", w.file, e.Name, m[1])
			}
		}
		read := regexp.MustCompile(`\b` + e.Name + `\b`).MatchString(help)
		if !read && !referenced[e.Name] && !slices.Contains(runtimeEnv, e.Name) {
			t.Errorf("%s: %s sets %s, which %s %s does not read (not in its -h)", w.file, c.Name, e.Name, c.Command[0], c.Command[1])
		}
		env[e.Name] = e.Value
		if e.ValueFrom == nil {
			continue
		}
		switch src := e.ValueFrom; {
		case src.ConfigMapKeyRef != nil:
			ref := src.ConfigMapKeyRef
			v, ok := cm.Data[ref.Key]
			switch {
			case ref.Name != cm.Name:
				t.Errorf("%s: %s reads ConfigMap %s, want %s", w.file, e.Name, ref.Name, cm.Name)
			case !ok:
				t.Errorf("%s: %s reads key %s, which the ConfigMap does not have", w.file, e.Name, ref.Key)
			case ref.Key != e.Name && !strings.HasSuffix(ref.Key, "."+e.Name):
				t.Errorf("%s: %s reads key %s: want the variable's name, or JOB.%s", w.file, e.Name, ref.Key, e.Name)
			}
			used[ref.Key] = true
			env[e.Name] = v
		case src.SecretKeyRef != nil:
			ref := src.SecretKeyRef
			if _, ok := secret.StringData[ref.Key]; ref.Name != secret.Name || !ok {
				t.Errorf("%s: %s reads secret %s key %s, which secret.example.yaml does not have", w.file, e.Name, ref.Name, ref.Key)
			}
		case src.FieldRef != nil && e.Name == "JOB_COMPLETION_INDEX":
			if want := "metadata.annotations['batch.kubernetes.io/job-completion-index']"; src.FieldRef.FieldPath != want {
				t.Errorf("%s: JOB_COMPLETION_INDEX from %s, want %s, as Kubernetes sets it", w.file, src.FieldRef.FieldPath, want)
			}
		}
	}
	return env
}

// checkShards checks an Indexed Job's shard count against its completions.
func checkShards(t *testing.T, w workload, env map[string]string) {
	t.Helper()
	countVar := ""
	for _, v := range []string{"RECONCILE_SHARDS", "LOADGEN_SHARDS"} {
		if _, ok := env[v]; ok {
			countVar = v
		}
	}
	indexed := w.job.CompletionMode != nil && *w.job.CompletionMode == batchv1.IndexedCompletion
	switch {
	case indexed && countVar == "":
		t.Errorf("%s: an Indexed Job without RECONCILE_SHARDS or LOADGEN_SHARDS: every pod would take the whole input", w.file)
	case !indexed && countVar != "":
		t.Errorf("%s: %s set outside an Indexed Job: Kubernetes sets no JOB_COMPLETION_INDEX there", w.file, countVar)
	case !indexed:
		return
	}
	if w.job.Completions == nil || env[countVar] != strconv.Itoa(int(*w.job.Completions)) {
		t.Errorf("%s: %s=%s with completions %s: want the same number", w.file, countVar, env[countVar], show(w.job.Completions))
	}
	if w.job.Parallelism != nil && w.job.Completions != nil && *w.job.Parallelism > *w.job.Completions {
		t.Errorf("%s: parallelism %d above completions %d", w.file, *w.job.Parallelism, *w.job.Completions)
	}
	for _, v := range []string{"RECONCILE_SHARD", "LOADGEN_SHARD", "RECONCILE_CHECKPOINT_NAME"} {
		if _, ok := env[v]; ok {
			t.Errorf("%s: %s set in an Indexed Job: every pod would share it", w.file, v)
		}
	}
	if w.job.Suspend == nil || !*w.job.Suspend {
		t.Errorf("%s: a one-off Job must be created suspended, or applying the manifests starts it", w.file)
	}
}

// defaultDrain reads the default of -drain-timeout from -h, "" when the
// command has no such flag.
func defaultDrain(help string) string {
	m := regexp.MustCompile(`-drain-timeout duration\n[^\n]*\(default ([^;)]+)`).FindStringSubmatch(help)
	if m == nil {
		return ""
	}
	return m[1]
}

// checkDrain checks that SIGKILL comes after the drain timeout and a margin.
func checkDrain(t *testing.T, w workload, c corev1.Container, env map[string]string, help string) {
	t.Helper()
	drain := defaultDrain(help)
	for _, v := range []string{"RECONCILE_DRAIN_TIMEOUT", "LOADGEN_DRAIN_TIMEOUT"} {
		if env[v] != "" {
			drain = env[v]
		}
	}
	if drain == "" {
		return // merge: nothing in flight to drain
	}
	d, err := time.ParseDuration(drain)
	if err != nil {
		t.Fatalf("%s: drain timeout %q: %v", w.file, drain, err)
	}
	grace := w.pod().TerminationGracePeriodSeconds
	if grace == nil || time.Duration(*grace)*time.Second < d+graceMargin {
		t.Errorf("%s: terminationGracePeriodSeconds %s, want at least the drain timeout %v + %v", w.file, show(grace), d, graceMargin)
	}
}

// show renders an optional field.
func show[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

// checkPaths checks that every file the container writes is on a mounted
// volume: the root filesystem is read-only.
func checkPaths(t *testing.T, w workload, c corev1.Container, env map[string]string) {
	t.Helper()
	for _, v := range []string{"RECONCILE_OUT", "RECONCILE_MERGE_OUT", "RECONCILE_DEAD_LETTER", "RECONCILE_SUMMARY", "LOADGEN_OUT"} {
		p, ok := env[v]
		if !ok {
			continue
		}
		mounted := false
		for _, m := range c.VolumeMounts {
			mounted = mounted || strings.HasPrefix(p, strings.TrimSuffix(m.MountPath, "/")+"/")
		}
		if !mounted {
			t.Errorf("%s: %s=%s is on no volume, and the root filesystem is read-only", w.file, v, p)
		}
	}
	if c.Command[1] == "replay" {
		if _, ok := env["RECONCILE_DEAD_LETTER"]; !ok {
			t.Errorf("%s: replay without RECONCILE_DEAD_LETTER writes dead-letter.jsonl to the read-only root", w.file)
		}
	}
	vols := map[string]bool{}
	for _, v := range w.pod().Volumes {
		vols[v.Name] = true
	}
	for _, m := range c.VolumeMounts {
		if !vols[m.Name] {
			t.Errorf("%s: %s mounts volume %s, which the pod does not have", w.file, c.Name, m.Name)
		}
	}
}

// The merge Job reads the directories the sharded verify writes.
func TestMergeReadsVerifyShards(t *testing.T) {
	ws, _, _ := split(t, load(t))
	var out, glob string
	for _, w := range ws {
		c := w.pod().Containers[0]
		for _, e := range c.Env {
			if e.Name == "RECONCILE_OUT" && c.Command[1] == "verify" && w.cron == nil {
				out = strings.NewReplacer("$(JOB_NAME)", w.name, "$(JOB_COMPLETION_INDEX)", "*").Replace(e.Value)
			}
		}
		if c.Command[1] == "merge" {
			glob = c.Command[len(c.Command)-1]
		}
	}
	if out == "" || out != glob {
		t.Errorf("the verify shards write %q, the merge reads %q: want the same", out, glob)
	}
}

// Every pod runs as the image's nonroot user, read-only, without
// privileges or a service account token, with resources set.
func TestSecurity(t *testing.T) {
	objs := load(t)
	ws, _, _ := split(t, objs)
	var sa *corev1.ServiceAccount
	for _, o := range objs {
		if v, ok := o.obj.(*corev1.ServiceAccount); ok {
			sa = v
		}
	}
	switch {
	case sa == nil:
		t.Fatal("no ServiceAccount for the pods")
	case len(sa.Annotations) > 0 || len(sa.Secrets) > 0:
		t.Errorf("ServiceAccount %s has annotations or secrets %v %v: the cloud role stays a comment users fill in", sa.Name, sa.Annotations, sa.Secrets)
	case sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken:
		t.Errorf("ServiceAccount %s: automountServiceAccountToken not false", sa.Name)
	}
	for _, w := range ws {
		p := w.pod()
		sc := p.SecurityContext
		if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != imageUser ||
			sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod securityContext %+v, want runAsNonRoot, runAsUser %d, seccomp RuntimeDefault", w.file, sc, imageUser)
		}
		if p.AutomountServiceAccountToken == nil || *p.AutomountServiceAccountToken {
			t.Errorf("%s: automountServiceAccountToken not false: the jobs never call the Kubernetes API", w.file)
		}
		if p.ServiceAccountName != sa.Name {
			t.Errorf("%s: serviceAccountName %q, want %q, the identity a cloud role is bound to (serviceaccount.yaml)", w.file, p.ServiceAccountName, sa.Name)
		}
		if p.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("%s: restartPolicy %q, want Never (retries are the Job's, and podFailurePolicy needs it)", w.file, p.RestartPolicy)
		}
		for _, c := range p.Containers {
			csc := c.SecurityContext
			if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem || csc.AllowPrivilegeEscalation == nil ||
				*csc.AllowPrivilegeEscalation || csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
				t.Errorf("%s: container %s securityContext %+v, want a read-only root, no privilege escalation, all capabilities dropped", w.file, c.Name, csc)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s: container %s resources %+v, want cpu and memory requests and a memory limit", w.file, c.Name, c.Resources)
			}
			if c.Image != "billharness" {
				t.Errorf("%s: container %s image %q, want the placeholder billharness that the kustomizations set", w.file, c.Name, c.Image)
			}
		}
		if w.job.ActiveDeadlineSeconds == nil || (w.job.BackoffLimit == nil && w.job.BackoffLimitPerIndex == nil) {
			t.Errorf("%s: want a deadline and a backoff limit", w.file)
		}
	}
}

// The month-end CronJob runs once at a time on the month that closed.
func TestMonthEndSchedule(t *testing.T) {
	ws, cm, _ := split(t, load(t))
	for _, w := range ws {
		if w.cron == nil {
			continue
		}
		s := w.cron.Spec
		if s.ConcurrencyPolicy != batchv1.ForbidConcurrent || s.TimeZone == nil || *s.TimeZone != "Etc/UTC" || s.Schedule != "0 6 1 * *" {
			t.Errorf("%s: schedule %q in %v, concurrency %s; want 0 6 1 * * in Etc/UTC, Forbid", w.file, s.Schedule, s.TimeZone, s.ConcurrencyPolicy)
		}
		if got := cm.Data["month-end.RECONCILE_WINDOW"]; got != "last-month" {
			t.Errorf("month-end.RECONCILE_WINDOW = %q, want last-month", got)
		}
		return
	}
	t.Fatal("no CronJob")
}

func TestDefaultDrain(t *testing.T) {
	help := "  -drain-timeout duration\n    \tafter SIGTERM (default 30s; env RECONCILE_DRAIN_TIMEOUT)\n"
	if got := defaultDrain(help); got != "30s" {
		t.Errorf("defaultDrain(%q) = %q, want 30s", help, got)
	}
	if got := defaultDrain("  -out dir\n"); got != "" {
		t.Errorf("defaultDrain without the flag = %q, want none", got)
	}
}

// A job that exits 0 has proven the totals: the month-end job verifies and
// heals after any replay, and every workload that writes dead letters or
// reports keeps them on the claim, which outlives the pod.
func TestDeadLettersAndVerifyOutliveThePod(t *testing.T) {
	ws, cm, _ := split(t, load(t))
	if got := cm.Data["month-end.RECONCILE_HEAL"]; got != "true" {
		t.Errorf("month-end.RECONCILE_HEAL = %q, want true: a replay's exit 0 means delivered, only a verified month is counted", got)
	}
	for _, w := range ws {
		if !strings.HasPrefix(w.file, "base/") || strings.Contains(w.name, "loadtest") {
			continue
		}
		for _, v := range w.pod().Volumes {
			if v.Name == "data" && (v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != "billharness-data") {
				t.Errorf("%s: the data volume is %s, want the billharness-data claim: dead letters and reports must outlive the pod", w.file, show(&v.VolumeSource))
			}
		}
	}
}
