package dpdk

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// checkHugepages says why EAL would fail to find hugepages: it wants free
// pages in some size and a hugetlbfs mount. EAL's own message ("Cannot get
// hugepage information") does not name the fix.
func checkHugepages(sysHugepages, mounts string) error {
	free := 0
	dirs, _ := filepath.Glob(filepath.Join(sysHugepages, "hugepages-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "free_hugepages"))
		if err != nil {
			continue
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		free += n
	}
	if free == 0 {
		return fmt.Errorf("dpdk: no free hugepages (%s/*/free_hugepages is 0) and no_huge is off: reserve some (echo 256 > /proc/sys/vm/nr_hugepages) or set no_huge", sysHugepages)
	}
	f, err := os.Open(mounts)
	if err != nil {
		return fmt.Errorf("dpdk: cannot check hugetlbfs mounts: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) >= 3 && fields[2] == "hugetlbfs" {
			return nil
		}
	}
	return fmt.Errorf("dpdk: %d free hugepages but no hugetlbfs mount in %s and no_huge is off: mount -t hugetlbfs none /dev/hugepages, or set no_huge", free, mounts)
}
