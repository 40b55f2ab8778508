//go:build tools

// Package tools pins actionlint, the GitHub Actions workflow linter, so CI
// builds the exact version recorded in go.sum:
//
//	go build -o ~/.cache/syrf-db-tools/bin/actionlint github.com/rhysd/actionlint/cmd/actionlint
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
