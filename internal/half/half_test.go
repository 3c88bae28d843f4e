package half

import (
	"math"
	"testing"
)

// TestFloat16RoundTrip: every half value converts to float32 and back to
// itself (NaNs stay NaN), and float32 values round to the nearest half with
// ties to even.
func TestFloat16RoundTrip(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		back := F32ToF16(f)
		if f != f {
			if F16ToF32(back) == F16ToF32(back) {
				t.Fatalf("NaN %#04x came back as %#04x", h, back)
			}
			continue
		}
		if back != uint16(h) {
			t.Fatalf("%#04x → %v → %#04x", h, f, back)
		}
	}
	tests := []struct {
		in   float32
		want uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {1e-8, 0}, // overflow to Inf, underflow to 0
		{1 + 1.0/2048, 0x3c00}, // halfway between 1 and the next half: ties to even (down)
		{1 + 3.0/2048, 0x3c02}, // halfway, odd below: up
		{float32(math.Inf(-1)), 0xfc00},
		{5.960464477539063e-08, 0x0001}, // smallest subnormal
	}
	for _, tc := range tests {
		if got := F32ToF16(tc.in); got != tc.want {
			t.Errorf("F32ToF16(%v) = %#04x, want %#04x", tc.in, got, tc.want)
		}
	}
}

// TestBFloat16: bfloat16 keeps float32's exponent; rounding is to nearest
// even and NaN stays NaN.
func TestBFloat16(t *testing.T) {
	tests := []struct {
		in   float32
		want uint16
	}{
		{1, 0x3f80}, {-1, 0xbf80}, {1 + 1.0/256, 0x3f80}, {1 + 3.0/256, 0x3f82}, {3.4e38, 0x7f80},
	}
	for _, tc := range tests {
		if got := F32ToBF16(tc.in); got != tc.want {
			t.Errorf("F32ToBF16(%v) = %#04x, want %#04x", tc.in, got, tc.want)
		}
		if got := BF16ToF32(tc.want); tc.want != 0x7f80 && math.Abs(float64(got-tc.in)) > math.Abs(float64(tc.in))/128 {
			t.Errorf("BF16ToF32(%#04x) = %v", tc.want, got)
		}
	}
	if nan := F32ToBF16(float32(math.NaN())); BF16ToF32(nan) == BF16ToF32(nan) {
		t.Errorf("NaN became %#04x", nan)
	}
}
