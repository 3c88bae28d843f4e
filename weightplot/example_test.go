package weightplot_test

import (
	"bytes"
	"fmt"
	"image"
	_ "image/png"

	"github.com/onnxloss/onnxloss/weightplot"
)

func ExampleRender() {
	var png bytes.Buffer
	counts := []float64{500, 120, 7, 40, 3}
	names := []string{"cat", "dog", "fox", "owl", "yak"}
	if err := weightplot.Render(&png, counts, names, weightplot.Options{Beta: 0.9999, Normalize: true}); err != nil {
		panic(err)
	}
	cfg, format, _ := image.DecodeConfig(&png)
	fmt.Println(format, cfg.Width, cfg.Height)
	// Output: png 1080 840
}

// FormatOf picks the plot format from the file name; WriteFile uses it.
func ExampleFormatOf() {
	for _, name := range []string{"w.svg", "w.PDF", "w.png", "w.jpg"} {
		f, err := weightplot.FormatOf(name)
		fmt.Println(f, err != nil)
	}
	// Output:
	// svg false
	// pdf false
	// png false
	//  true
}
