package jobs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// manifests are the files applied by the base and the persistent overlay.
var manifests = []string{
	"base/configmap.yaml",
	"base/cronjob-reconcile.yaml",
	"base/job-backfill-indexed.yaml",
	"base/job-loadgen.yaml",
	"base/secret.example.yaml",
	"base/pvc.yaml",
	"base/serviceaccount.yaml",
	"overlays/persistent/job-verify-indexed.yaml",
	"overlays/persistent/job-merge.yaml",
}

// object is one decoded manifest.
type object struct {
	file string
	kind string
	obj  any // *batchv1.CronJob, *batchv1.Job, *corev1.ConfigMap…
}

// decodeStrict decodes one YAML document into the API type its apiVersion
// and kind name: through JSON, as the API server reads it, with unknown
// fields and duplicate keys as errors.
func decodeStrict(doc []byte) (string, any, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return "", nil, err
	}
	var tm struct{ APIVersion, Kind string }
	if err := json.Unmarshal(js, &tm); err != nil {
		return "", nil, err
	}
	var obj any
	switch tm.APIVersion + " " + tm.Kind {
	case "batch/v1 CronJob":
		obj = &batchv1.CronJob{}
	case "batch/v1 Job":
		obj = &batchv1.Job{}
	case "v1 ConfigMap":
		obj = &corev1.ConfigMap{}
	case "v1 Secret":
		obj = &corev1.Secret{}
	case "v1 PersistentVolumeClaim":
		obj = &corev1.PersistentVolumeClaim{}
	case "v1 ServiceAccount":
		obj = &corev1.ServiceAccount{}
	default:
		return "", nil, fmt.Errorf("apiVersion %q kind %q: not a type these manifests use", tm.APIVersion, tm.Kind)
	}
	if err := decodeJSONStrict(js, obj); err != nil {
		return "", nil, fmt.Errorf("%s: %w", tm.Kind, err)
	}
	return tm.Kind, obj, nil
}

// decodeJSONStrict decodes js into v, refusing unknown fields.
func decodeJSONStrict(js []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// load decodes every manifest, failing the test on any error.
func load(t *testing.T) []object {
	t.Helper()
	var out []object
	for _, f := range manifests {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		kind, obj, err := decodeStrict(b)
		if err != nil {
			t.Fatalf("decode %s: %v", f, err)
		}
		out = append(out, object{file: f, kind: kind, obj: obj})
	}
	return out
}

func TestManifestsDecodeStrictly(t *testing.T) {
	load(t)
	// The decoder must refuse what the API server would: a typo'd field.
	bad := []byte("apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec:\n  completionMod: Indexed\n")
	if _, _, err := decodeStrict(bad); err == nil || !strings.Contains(err.Error(), "completionMod") {
		t.Errorf("decodeStrict of a Job with spec.completionMod = %v, want an unknown field error", err)
	}
	dup := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  A: \"1\"\n  A: \"2\"\n")
	if _, _, err := decodeStrict(dup); err == nil {
		t.Errorf("decodeStrict of a ConfigMap with a duplicate key = nil, want an error")
	}
}

// kustomization is the part of a kustomization.yaml these files use;
// decoding it strictly catches a misspelt field, which kustomize ignores
// in places.
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Resources  []string
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors"`
	}
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	}
	Patches []struct {
		Target struct{ Kind, Name string }
		Patch  string `json:"patch"`
	}
}

func readKustomization(t *testing.T, dir string) kustomization {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSONStrict(b)
	if err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	var k kustomization
	if err := decodeJSONStrict(js, &k); err != nil {
		t.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	return k
}

// Every manifest is applied by a kustomization, except the Secret
// template, which must not be: applying would replace the real token with
// a placeholder.
func TestKustomizations(t *testing.T) {
	listed := map[string]bool{}
	for _, dir := range []string{"base", "overlays/persistent"} {
		k := readKustomization(t, dir)
		if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
			t.Errorf("%s: apiVersion %q kind %q, want a kustomize.config.k8s.io/v1beta1 Kustomization", dir, k.APIVersion, k.Kind)
		}
		if len(k.Images) != 1 || k.Images[0].Name != "billharness" {
			t.Errorf("%s: images = %+v, want the one entry users set for image billharness", dir, k.Images)
		}
		for _, r := range k.Resources {
			p := filepath.Join(dir, r)
			if _, err := os.Stat(p); err != nil {
				t.Errorf("%s lists %s: %v", dir, r, err)
			}
			listed[filepath.Clean(p)] = true
		}
	}
	for _, f := range manifests {
		switch {
		case f == "base/secret.example.yaml" && listed[f]:
			t.Errorf("%s is listed in a kustomization: applying it would overwrite the real token", f)
		case f != "base/secret.example.yaml" && !listed[f]:
			t.Errorf("%s is in no kustomization's resources", f)
		}
	}
	for _, dir := range []string{"base", "overlays/persistent"} {
		entries, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if filepath.Base(e) != "kustomization.yaml" && !slices.Contains(manifests, e) {
				t.Errorf("%s is not among the manifests this test checks", e)
			}
		}
	}
}

// The kustomize output, when kubectl is there to build it, decodes strictly
// too, and names the image users set.
func TestKustomizeBuild(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed: the kustomize output is not checked (the manifests are, one by one)")
	}
	for _, dir := range []string{"base", "overlays/persistent"} {
		t.Run(dir, func(t *testing.T) {
			out, err := exec.Command(kubectl, "kustomize", dir).Output()
			if err != nil {
				t.Fatalf("kubectl kustomize %s: %v", dir, err)
			}
			docs := bytes.Split(out, []byte("\n---\n"))
			if len(docs) < 4 {
				t.Fatalf("kubectl kustomize %s built %d objects, want at least 4", dir, len(docs))
			}
			for i, doc := range docs {
				if _, _, err := decodeStrict(doc); err != nil {
					t.Errorf("kubectl kustomize %s, object %d: %v", dir, i, err)
				}
			}
			if bytes.Contains(out, []byte("image: billharness\n")) {
				t.Errorf("kubectl kustomize %s left a container on the placeholder image billharness", dir)
			}
		})
	}
}
