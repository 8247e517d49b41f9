// Package jobs holds no code. Its module holds the Kubernetes manifests of
// the billharness jobs (base/ and overlays/, kustomize) and the tests that
// decode them strictly into the official API types and check their wiring
// against the Dockerfile and the commands' flags. It is a module of its own
// so that k8s.io/api stays out of the main module's dependencies.
package jobs
