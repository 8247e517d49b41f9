package cli

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAPIRegister(t *testing.T) {
	var a API
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	a.Register(fs)
	env := map[string]string{
		"BILLING_API_URL":              "https://api.bill.sh",
		"BILLING_TOKEN_FILE":           "/run/secrets/token",
		"BILLING_INSECURE_SKIP_VERIFY": "true",
	}
	if _, err := Parse(fs, nil, mapEnv(env)); err != nil {
		t.Fatal(err)
	}
	want := API{URL: "https://api.bill.sh", TokenFile: "/run/secrets/token", InsecureSkipVerify: true}
	if a != want {
		t.Errorf("API from env = %+v, want %+v", a, want)
	}
	if fs.Lookup("token") != nil {
		t.Error("a -token flag exists; tokens must not be passed on the command line")
	}
}

func TestAPIValidate(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string
	}{
		{"https://api.bill.sh", ""},
		{"http://127.0.0.1:8080/base", ""},
		{"", "no API URL"},
		{"api.bill.sh", "invalid API URL"},
		{"ftp://api.bill.sh", "invalid API URL"},
		{"https://", "invalid API URL"},
		{"https://user:secret@api.bill.sh", "credentials in the URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := (&API{URL: tt.url}).Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate(%q) = %v, want nil", tt.url, err)
				}
				return
			}
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate(%q) = %v, want usage error containing %q", tt.url, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("Validate(%q) = %v, which leaks the password", tt.url, err)
			}
		})
	}
}

func TestAPIToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "  bsk_test_file\n")
	empty := write("empty", "\n")
	spaced := write("spaced", "bsk_test_a b")
	tests := []struct {
		name      string
		file      string
		env       string
		want      string
		wantErr   string
		wantUsage bool
	}{
		{name: "env", env: "bsk_test_env", want: "bsk_test_env"},
		{name: "file, trimmed", file: good, want: "bsk_test_file"},
		{name: "file beats env", file: good, env: "bsk_test_env", want: "bsk_test_file"},
		{name: "none", wantErr: "no API token", wantUsage: true},
		{name: "empty file", file: empty, env: "bsk_test_env", wantErr: "empty", wantUsage: true},
		{name: "missing file", file: filepath.Join(dir, "nope"), wantErr: "read token file (-token-file or BILLING_TOKEN_FILE): open ", wantUsage: true},
		{name: "inner space", file: spaced, wantErr: "spaces or control", wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := API{TokenFile: tt.file}
			got, err := a.Token(mapEnv(map[string]string{"BILLING_TOKEN": tt.env}))
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("Token() = %q, %v, want %q", got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Token() = %q, %v, want error containing %q", got, err, tt.wantErr)
			}
			if errors.Is(err, ErrUsage) != tt.wantUsage {
				t.Errorf("Token() = %v; usage error: %v, want %v", err, !tt.wantUsage, tt.wantUsage)
			}
			if strings.Contains(err.Error(), "bsk_test") {
				t.Errorf("Token() = %v, which leaks the token", err)
			}
		})
	}
}
