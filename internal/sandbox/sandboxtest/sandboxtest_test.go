package sandboxtest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/billharness/billharness/internal/sandbox"
	"github.com/billharness/billharness/internal/sandbox/sandboxtest"
)

func TestStart(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Config{})
	if !strings.HasPrefix(sb.AdminToken, "bsk_test_") || !strings.HasPrefix(sb.CustomerToken, "bsk_test_") || sb.AdminToken == sb.CustomerToken {
		t.Errorf("tokens = %q, %q; want two distinct bsk_test_ keys", sb.AdminToken, sb.CustomerToken)
	}
	if !strings.HasPrefix(sb.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q, want http://127.0.0.1:<port>", sb.URL)
	}
	for _, tok := range []string{sb.AdminToken, sb.CustomerToken} {
		req, _ := http.NewRequest("GET", sb.URL+"/v1/subscriptions", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET /v1/subscriptions: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET /v1/subscriptions with a Start token = %d, want 200", resp.StatusCode)
		}
	}
	if got := sb.Server.Stats().Requests; got != 2 {
		t.Errorf("Server.Stats().Requests = %d, want 2", got)
	}
	given := sandboxtest.Start(t, sandbox.Config{AdminToken: "bsk_test_given"})
	if given.AdminToken != "bsk_test_given" {
		t.Errorf("AdminToken = %q, want the one in the config", given.AdminToken)
	}
}
