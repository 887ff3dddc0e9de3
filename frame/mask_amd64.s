//go:build !purego

#include "textflag.h"

// func maskAVX2(p *byte, n int, k uint64)
//
// XORs n bytes at p (n a multiple of 32) with k broadcast to a 32-byte
// vector: 128 bytes per iteration while they last, then 32 at a time.
// Loads and stores are unaligned (VMOVDQU / memory operand of VPXOR, which
// AVX does not require to be aligned).
TEXT ·maskAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), DI
	MOVQ n+8(FP), CX
	MOVQ k+16(FP), X0
	VPBROADCASTQ X0, Y0
	CMPQ CX, $128
	JB   loop32

loop128:
	VPXOR   (DI), Y0, Y1
	VPXOR   32(DI), Y0, Y2
	VPXOR   64(DI), Y0, Y3
	VPXOR   96(DI), Y0, Y4
	VMOVDQU Y1, (DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y3, 64(DI)
	VMOVDQU Y4, 96(DI)
	ADDQ    $128, DI
	SUBQ    $128, CX
	CMPQ    CX, $128
	JAE     loop128

loop32:
	CMPQ    CX, $32
	JB      done
	VPXOR   (DI), Y0, Y1
	VMOVDQU Y1, (DI)
	ADDQ    $32, DI
	SUBQ    $32, CX
	JMP     loop32

done:
	VZEROUPPER
	RET
