#include "textflag.h"

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	BYTE $0x0f; BYTE $0x01; BYTE $0xd0 // XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func gemmKernelFMA(kc int, a *float64, ars, acs int, b *float64, ldb int, c *float64, ldc int, store int)
//
// Y0..Y7 hold the 4x8 tile of C (two registers per row). Step l broadcasts
// A's four values of column l (at SI, SI+ars, SI+2*ars, SI+3*ars) and
// multiplies them into B's eight values of row l (at DI); the eight
// accumulators are independent, enough to hide the FMA latency.
TEXT ·gemmKernelFMA(SB), NOSPLIT, $0-72
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ ars+16(FP), R10
	MOVQ acs+24(FP), R12
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R9
	MOVQ c+48(FP), DX
	MOVQ ldc+56(FP), R8
	SHLQ $3, R10
	SHLQ $3, R12
	SHLQ $3, R9
	SHLQ $3, R8
	LEAQ (R10)(R10*2), R11

	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	TESTQ CX, CX
	JLE store

loop:
	VMOVUPD (DI), Y8
	VMOVUPD 32(DI), Y9
	VBROADCASTSD (SI), Y10
	VFMADD231PD Y8, Y10, Y0
	VFMADD231PD Y9, Y10, Y1
	VBROADCASTSD (SI)(R10*1), Y11
	VFMADD231PD Y8, Y11, Y2
	VFMADD231PD Y9, Y11, Y3
	VBROADCASTSD (SI)(R10*2), Y12
	VFMADD231PD Y8, Y12, Y4
	VFMADD231PD Y9, Y12, Y5
	VBROADCASTSD (SI)(R11*1), Y13
	VFMADD231PD Y8, Y13, Y6
	VFMADD231PD Y9, Y13, Y7
	ADDQ R12, SI
	ADDQ R9, DI
	DECQ CX
	JNZ loop

store:
	MOVQ store+64(FP), AX
	TESTQ AX, AX
	JNZ overwrite
	VADDPD (DX), Y0, Y0
	VMOVUPD Y0, (DX)
	VADDPD 32(DX), Y1, Y1
	VMOVUPD Y1, 32(DX)
	ADDQ R8, DX
	VADDPD (DX), Y2, Y2
	VMOVUPD Y2, (DX)
	VADDPD 32(DX), Y3, Y3
	VMOVUPD Y3, 32(DX)
	ADDQ R8, DX
	VADDPD (DX), Y4, Y4
	VMOVUPD Y4, (DX)
	VADDPD 32(DX), Y5, Y5
	VMOVUPD Y5, 32(DX)
	ADDQ R8, DX
	VADDPD (DX), Y6, Y6
	VMOVUPD Y6, (DX)
	VADDPD 32(DX), Y7, Y7
	VMOVUPD Y7, 32(DX)
	VZEROUPPER
	RET

overwrite:
	VMOVUPD Y0, (DX)
	VMOVUPD Y1, 32(DX)
	ADDQ R8, DX
	VMOVUPD Y2, (DX)
	VMOVUPD Y3, 32(DX)
	ADDQ R8, DX
	VMOVUPD Y4, (DX)
	VMOVUPD Y5, 32(DX)
	ADDQ R8, DX
	VMOVUPD Y6, (DX)
	VMOVUPD Y7, 32(DX)
	VZEROUPPER
	RET
