// Command registry serves the images of an OCI image layout, read-only, over the
// registry API's pull endpoints, so that containerd's CRI plugin can "pull" images
// built on this machine. tests/clients/cri.sh points containerd's registry mirrors
// for registry.k8s.io, gcr.io and the others at it, in a private network namespace.
//
// Each manifest of the layout's index.json is found by its
// org.opencontainers.image.ref.name annotation, which holds the full reference
// ("registry.k8s.io/pause:3.9"); blobs, manifests included, by digest. A mirror
// request names the registry in its ns query parameter, as containerd sends it:
//
//	GET /v2/pause/manifests/3.9?ns=registry.k8s.io
//
// Usage: registry -listen 127.0.0.1:5000 -layout DIR
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type layout struct {
	dir  string
	refs map[string]descriptor // full reference → manifest
	byID map[string]descriptor // digest → manifest
}

func load(dir string) (*layout, error) {
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, err
	}
	var index struct {
		Manifests []descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, err
	}
	l := &layout{dir: dir, refs: map[string]descriptor{}, byID: map[string]descriptor{}}
	for _, d := range index.Manifests {
		if ref := d.Annotations["org.opencontainers.image.ref.name"]; ref != "" {
			l.refs[ref] = d
		}
		l.byID[d.Digest] = d
	}
	return l, nil
}

var (
	digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	routeRE  = regexp.MustCompile(`^/v2/(.+)/(manifests|blobs)/([^/]+)$`)
)

func (l *layout) blobPath(digest string) string {
	return filepath.Join(l.dir, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

func (l *layout) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "read-only registry", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == "/v2/" || r.URL.Path == "/v2" {
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		w.Write([]byte("{}"))
		return
	}
	m := routeRE.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.NotFound(w, r)
		return
	}
	name, kind, ref := m[1], m[2], m[3]
	if ns := r.URL.Query().Get("ns"); ns != "" {
		name = ns + "/" + name
	}
	var desc descriptor
	switch {
	case kind == "blobs" && digestRE.MatchString(ref):
		desc = descriptor{MediaType: "application/octet-stream", Digest: ref}
	case kind == "manifests" && digestRE.MatchString(ref):
		d, ok := l.byID[ref]
		if !ok {
			http.NotFound(w, r)
			return
		}
		desc = d
	case kind == "manifests":
		d, ok := l.refs[name+":"+ref]
		if !ok {
			log.Printf("no image %s:%s", name, ref)
			http.NotFound(w, r)
			return
		}
		desc = d
	default:
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(l.blobPath(desc.Digest))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", desc.MediaType)
	w.Header().Set("Docker-Content-Digest", desc.Digest)
	w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	if r.Method == http.MethodHead {
		return
	}
	http.ServeContent(w, r, "", st.ModTime(), f)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:5000", "address to listen on")
	dir := flag.String("layout", "", "OCI image layout directory")
	flag.Parse()
	l, err := load(*dir)
	if err != nil {
		log.Fatalf("registry: %v", err)
	}
	log.Printf("registry: %d references from %s on %s", len(l.refs), *dir, *listen)
	log.Fatal(http.ListenAndServe(*listen, l))
}
