//go:build !amd64

package eval

func addVV32(o, a, b []float32)             { panic("needs amd64") }
func subVV32(o, a, b []float32)             { panic("needs amd64") }
func mulVV32(o, a, b []float32)             { panic("needs amd64") }
func divVV32(o, a, b []float32)             { panic("needs amd64") }
func addVS32(o, a []float32, s float32)     { panic("needs amd64") }
func subVS32(o, a []float32, s float32)     { panic("needs amd64") }
func mulVS32(o, a []float32, s float32)     { panic("needs amd64") }
func divVS32(o, a []float32, s float32)     { panic("needs amd64") }
func subSV32(o, a []float32, s float32)     { panic("needs amd64") }
func divSV32(o, a []float32, s float32)     { panic("needs amd64") }
func negSlice32(o, x []float32)             { panic("needs amd64") }
func absSlice32(o, x []float32)             { panic("needs amd64") }
func reluSlice32(o, x []float32)            { panic("needs amd64") }
func boolToF32(o []float32, b []bool)       { panic("needs amd64") }
func maxLanes32(x []float32, m *[8]float32) { panic("needs amd64") }

func addVV512(o, a, b []float32, stream bool)         { panic("needs amd64") }
func subVV512(o, a, b []float32, stream bool)         { panic("needs amd64") }
func mulVV512(o, a, b []float32, stream bool)         { panic("needs amd64") }
func divVV512(o, a, b []float32, stream bool)         { panic("needs amd64") }
func addVS512(o, a []float32, s float32, stream bool) { panic("needs amd64") }
func subVS512(o, a []float32, s float32, stream bool) { panic("needs amd64") }
func mulVS512(o, a []float32, s float32, stream bool) { panic("needs amd64") }
func divVS512(o, a []float32, s float32, stream bool) { panic("needs amd64") }
func subSV512(o, a []float32, s float32, stream bool) { panic("needs amd64") }
func divSV512(o, a []float32, s float32, stream bool) { panic("needs amd64") }

func eqVS64x512(o []bool, a []int64, s int64) { panic("needs amd64") }
func eqVV64x512(o []bool, a, b []int64)       { panic("needs amd64") }
