//go:build tools

// Package tools pins kube-apiserver, the real Kubernetes API server the infra
// tests apply every rendered object to (server-side dry-run, strict field
// validation). k8s.io/kubernetes is not meant to be imported: its go.mod points
// the k8s.io/* staging modules at ./staging, so go.mod here pins each of them to
// the published v0.34.x release that matches v1.34.x.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
