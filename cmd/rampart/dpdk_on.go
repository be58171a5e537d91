//go:build !nodpdk

package main

const dpdkSupport = "built in"
