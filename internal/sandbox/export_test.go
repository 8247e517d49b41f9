package sandbox

// Routes lists the served routes as "METHOD pattern", for the tests that
// compare them with the OpenAPI document.
func Routes() []string {
	var out []string
	for _, r := range routes() {
		out = append(out, r.method+" "+r.pattern)
	}
	return out
}
