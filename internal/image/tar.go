package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// tarFiles reads single entries of a tar archive without extracting it. Opening it scans the
// headers once; entry contents (the layers, mostly) are skipped, never read.
type tarFiles struct {
	r       io.ReaderAt
	closer  io.Closer
	entries map[string]tarEntry
}

type tarEntry struct {
	offset, size int64
	// link is the target of a symbolic or hard link, already resolved to a name in the archive.
	link string
}

// openTar opens and indexes the archive at path.
func openTar(p string) (*tarFiles, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: the archive file does not exist", ErrNotFound)
	} else if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		err = errors.New("not an archive: it is a directory")
	}
	var t *tarFiles
	if err == nil {
		t, err = indexTar(f, fi.Size())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	t.closer = f
	return t, nil
}

func (t *tarFiles) Close() error { return t.closer.Close() }

// indexTar records where each regular file's content lies in r.
func indexTar(r io.ReaderAt, size int64) (*tarFiles, error) {
	var magic [2]byte
	if n, _ := r.ReadAt(magic[:], 0); n == 2 && magic == [2]byte{0x1f, 0x8b} {
		return nil, errors.New("the archive is gzip-compressed; decompress it first")
	}
	hr := &headerReader{r: r, size: size}
	tr := tar.NewReader(hr)
	t := &tarFiles{r: r, entries: map[string]tarEntry{}}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, tar.ErrHeader) && len(t.entries) == 0 {
			return nil, errors.New("not a tar archive")
		} else if err != nil {
			return nil, fmt.Errorf("reading archive: %w", err)
		}
		name := cleanEntryName(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeReg:
			if isSparse(hdr) {
				// tar reads a sparse file's map from its content; such entries are never
				// manifests or configs, so they are left out rather than skipped blindly.
				continue
			}
			t.entries[name] = tarEntry{offset: hr.pos, size: hdr.Size}
			hr.skip(hr.pos, hdr.Size)
		case tar.TypeSymlink:
			t.entries[name] = tarEntry{link: cleanEntryName(path.Join(path.Dir(name), hdr.Linkname))}
		case tar.TypeLink:
			t.entries[name] = tarEntry{link: cleanEntryName(hdr.Linkname)}
		}
	}
	return t, nil
}

func isSparse(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// cleanEntryName makes "./blobs/sha256/x", "/blobs/sha256/x" and "blobs//sha256/x" one name.
func cleanEntryName(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// entry finds a regular file by name, following links.
func (t *tarFiles) entry(name string) (tarEntry, error) {
	name = cleanEntryName(name)
	for range 16 {
		e, ok := t.entries[name]
		if !ok {
			return tarEntry{}, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
		}
		if e.link == "" {
			return e, nil
		}
		name = e.link
	}
	return tarEntry{}, fmt.Errorf("%s: too many links", name)
}

func (t *tarFiles) read(name string, max int64) ([]byte, error) {
	e, err := t.entry(name)
	if err != nil {
		return nil, err
	}
	if e.size > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, max)
	}
	b := make([]byte, e.size)
	if _, err := t.r.ReadAt(b, e.offset); err != nil && !(err == io.EOF && len(b) == 0) {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return b, nil
}

// headerReader lets archive/tar walk the headers while answering the current entry's content
// with zeros, without reading it: tar skips content with Seek and then reads its last byte,
// which on a multi-gigabyte layer would still touch the file.
type headerReader struct {
	r         io.ReaderAt
	size      int64
	pos       int64
	holeStart int64
	holeEnd   int64
}

func (h *headerReader) skip(offset, n int64) {
	h.holeStart, h.holeEnd = offset, offset+n
}

func (h *headerReader) Read(p []byte) (int, error) {
	if h.pos >= h.size {
		return 0, io.EOF
	}
	if h.pos >= h.holeStart && h.pos < h.holeEnd {
		n := min(int64(len(p)), h.holeEnd-h.pos, h.size-h.pos)
		clear(p[:n])
		h.pos += n
		return int(n), nil
	}
	end := min(h.pos+int64(len(p)), h.size)
	if h.pos < h.holeStart && end > h.holeStart {
		end = h.holeStart
	}
	n, err := h.r.ReadAt(p[:end-h.pos], h.pos)
	h.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (h *headerReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += h.pos
	case io.SeekEnd:
		offset += h.size
	}
	if offset < 0 {
		return 0, errors.New("seek before the start of the archive")
	}
	h.pos = offset
	return offset, nil
}
