//go:build nodpdk

package main

const dpdkSupport = "not built (nodpdk)"
