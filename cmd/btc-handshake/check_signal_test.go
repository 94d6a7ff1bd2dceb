//go:build linux

package main_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// liveInGroup lists the processes of group pgid that are not zombies (a
// killed orphan stays a zombie until whatever adopted it reaps it).
func liveInGroup(pgid int) []string {
	var live []string
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(b)
		end := strings.LastIndexByte(s, ')')
		fields := strings.Fields(s[end+1:]) // state ppid pgrp ...
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			live = append(live, s[:end+1])
		}
	}
	return live
}

// groups reads the process group ids the clients wrote into dir.
func groups(dir string) []int {
	var ids []int
	files, _ := filepath.Glob(filepath.Join(dir, "*.pgid"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if id, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

var _ = Describe("check, interrupted", func() {
	DescribeTable("kills every client's process group, reports the runs as interrupted, never as passed, and exits 128+signal",
		func(sig syscall.Signal, code int, name string) {
			dir := GinkgoT().TempDir()
			// Three clients run at once, each with a grandchild, and all
			// outlive any wait of this spec; the fourth scenario waits its
			// turn and is never run.
			s := run("check", "--json", "--client-timeout", "60s", "--parallel", "3",
				"--scenario", "version-verack-coalesced", "--scenario", "verack-skipped-held",
				"--scenario", "verack-skipped-closed", "--scenario", "sendcmpct-before-verack",
				"--client-cmd", "echo $$ > "+dir+"/{port}.pgid; sleep 1000 & sleep 1000 # {addr}")
			Eventually(func() []int { return groups(dir) }).WithTimeout(10 * time.Second).Should(HaveLen(3))
			pgids := groups(dir)
			for _, id := range pgids {
				// The client writes its group id before it starts the
				// sleeps: wait until both are up.
				Eventually(func() []string { return liveInGroup(id) }).WithTimeout(5*time.Second).
					Should(HaveLen(3), "sh and two sleeps in group %d", id)
			}
			signaled := time.Now()
			s.Signal(sig)
			Eventually(s).WithTimeout(5 * time.Second).Should(gexec.Exit(code))
			Expect(time.Since(signaled)).To(BeNumerically("<", 3*time.Second))
			Expect(string(s.Err.Contents())).To(ContainSubstring("interrupted by " + name))

			objs := ndjson(s.Out.Contents())
			Expect(objs).To(HaveLen(5))
			for _, row := range objs[:4] {
				Expect(row).To(HaveKeyWithValue("pass", false))
				Expect(row["reasons"]).To(ContainElement(Or(ContainSubstring("interrupted"), Equal("not run"))), "%v", row)
			}
			Expect(objs[4]).To(HaveKeyWithValue("passed", 0.0))
			for _, id := range pgids {
				Eventually(func() []string { return liveInGroup(id) }).WithTimeout(2*time.Second).Should(BeEmpty(), "group %d", id)
			}
		},
		Entry("SIGINT", syscall.SIGINT, 130, "SIGINT"),
		Entry("SIGTERM", syscall.SIGTERM, 143, "SIGTERM"),
	)
})
