//go:build tools

// Package tools pins the Pulumi CLI at the version of the installed @pulumi/pulumi.
// The module graph resolves from the Go module proxy (atotto/clipboard replaced as
// Pulumi's own go.mod does), but it is not built in CI: a real `pulumi preview` would
// also need the Node language host and the kubernetes and random providers at matching
// versions, each another large Go build. See docs/infrastructure.md.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
