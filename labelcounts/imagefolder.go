package labelcounts

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ImageExtensions are the file name endings torchvision's ImageFolder takes
// as images (torchvision.datasets.folder.IMG_EXTENSIONS), compared without
// regard to case.
var ImageExtensions = []string{".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}

// countImageFolder counts an ImageFolder tree as torchvision.datasets.ImageFolder
// reads it: the classes are the subdirectories of root (symbolic links
// followed), sorted by name, so class c is the c-th name; a class's samples
// are the files below its folder, at any depth, whose names end in one of
// ImageExtensions. Files directly in root are not samples. A class folder
// without images counts 0 (torchvision refuses such a tree).
func countImageFolder(root string, c *counter) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("cannot be read: %v", err)
	}
	classes := 0
	for _, e := range entries {
		isDir, err := entryIsDir(root, e)
		if err != nil || !isDir {
			continue
		}
		classes++
		name := e.Name()
		if err := c.declareName(name); err != nil {
			return fmt.Errorf("class folder %s: %w", name, err)
		}
		var n int64
		err = walkDir(filepath.Join(root, name), 0, func(path string, _ fs.DirEntry) {
			if isImage(path) {
				n++
			}
		})
		if err != nil {
			return err
		}
		if err := c.addName(name, n); err != nil {
			return fmt.Errorf("class folder %s: %w", name, err)
		}
	}
	if classes == 0 {
		return fmt.Errorf("has no class folders: an ImageFolder tree is root/<class>/<image>")
	}
	return nil
}

// isImage says whether path ends in one of ImageExtensions.
func isImage(path string) bool {
	lower := strings.ToLower(path)
	for _, e := range ImageExtensions {
		if strings.HasSuffix(lower, e) {
			return true
		}
	}
	return false
}
