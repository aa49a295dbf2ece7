package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// resources says what linux.resources a container's bundle carries.
type resources int

const (
	// withLimits: devices deny-all, memory 256 MiB, pids 1024, cpu shares
	// 1024, what an engine sends for `docker run -m 256m --pids-limit 1024`.
	withLimits resources = iota
	// noResources: no linux.resources at all.
	noResources
)

const limitsMemory = 256 << 20

// bundleSpec is one container's bundle: its process and limits.
type bundleSpec struct {
	args      []string
	res       resources
	memLimit  int64 // overrides the memory limit when > 0
	noNetwork bool  // leave out the network namespace (the scaling containers)
}

// bundles writes one bundle per container: a config.json made from the
// template mkbundle.sh wrote, pointing at its shared rootfs, with a
// cgroupsPath of the container's own ("/bench/<id>"; inside the benchmark's
// cgroup namespace "/" is the benchmark's cgroup).
type bundles struct {
	template []byte
	rootfs   string
	dir      string
}

func loadBundles(templateDir, dir string) (*bundles, error) {
	templateDir, err := filepath.Abs(templateDir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(templateDir, "config.json"))
	if err != nil {
		return nil, err
	}
	return &bundles{template: data, rootfs: filepath.Join(templateDir, "rootfs"), dir: dir}, nil
}

func cgroupsPath(id string) string { return "/bench/" + id }

// write makes the bundle of container id and returns its directory.
func (b *bundles) write(id string, bs bundleSpec) (string, error) {
	var spec map[string]any
	if err := json.Unmarshal(b.template, &spec); err != nil {
		return "", err
	}
	spec["root"] = map[string]any{"path": b.rootfs, "readonly": false}
	spec["process"].(map[string]any)["args"] = bs.args
	linux := spec["linux"].(map[string]any)
	linux["cgroupsPath"] = cgroupsPath(id)
	switch bs.res {
	case withLimits:
		mem := int64(limitsMemory)
		if bs.memLimit > 0 {
			mem = bs.memLimit
		}
		linux["resources"] = map[string]any{
			"devices": []any{map[string]any{"allow": false, "access": "rwm"}},
			"memory":  map[string]any{"limit": mem},
			"pids":    map[string]any{"limit": 1024},
			"cpu":     map[string]any{"shares": 1024},
		}
	case noResources:
		delete(linux, "resources")
	}
	if bs.noNetwork {
		var kept []any
		for _, ns := range linux["namespaces"].([]any) {
			if ns.(map[string]any)["type"] != "network" {
				kept = append(kept, ns)
			}
		}
		linux["namespaces"] = kept
	}
	data, err := json.Marshal(spec)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(b.dir, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		return "", fmt.Errorf("write bundle of %s: %w", id, err)
	}
	return dir, nil
}

func (b *bundles) remove(id string) { os.RemoveAll(filepath.Join(b.dir, id)) }
