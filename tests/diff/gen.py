#!/usr/bin/env python3
"""Generate tests/diff/templates.gen.c: the instruction templates of the
differential test (tests/diff/runner.c), one line each below.

    python3 tests/diff/gen.py            (or: make diffgen)

The generated file is committed; `make test` never needs Python.

A template names one encoding with the operand fields the runner draws at
random (registers, addressing form, immediates, operand size), the kind of
set-up it needs (shift counts, dividends, string pointers...) and the flags
the Intel SDM leaves undefined after it. The runner encodes an instance,
asks vtxsim's decoder whether it knows it, and skips templates it does not
(so templates for instructions other branches add activate on their own
after a merge). This script also reads cpu/opcodes.def and lists the rows no
template reaches, so a new row without a template is visible.

Encoding string, tokens separated by spaces:
  66 | f2 | f3        mandatory prefix (only before the opcode bytes)
  0f, 0f 38, 0f 3a    opcode map escape
  XX                  opcode byte; XX-YY = any byte of the range (cc forms);
                      XX+r = register in the low three bits
  /r                  ModRM, reg field a random register
  /0 ... /7           ModRM, reg field fixed (group member)
  ib iw iz iv iwb     immediates: 8, 16, 16/32 by size, 16/32/64 by size,
                      imm16 then imm8 (ENTER)
  vex.L.M.W.pp        (first token) VEX prefix: L 0/1, map 0f/0f38/0f3a,
                      W 0/1/w (w = by operand size), pp none/66/f3/f2;
                      vvvv is a random register
Keywords:
  sizes   b = byte form; w/d/q = 16/32/64-bit forms (66, none, REX.W);
          x = fixed (SSE, no size prefix)
  rm      any | reg | mem: what ModRM.rm may name
  undef   letters of the flags the SDM leaves undefined (O S Z A P C)
  kind    set-up and checks the runner adds (see enum diff_kind)
  lock    LOCK allowed (only with a memory destination)
  feat    CPUID feature the instruction needs, "LEAF_REG.bit"
  vvvv    the VEX.vvvv register is an operand (else it must be 1111b)

Where the host (AMD EPYC under KVM) and the SDM differ, vtxsim follows the
SDM and the test avoids the difference; the complete list:
  - 66 63 MOVSXD r16: the SDM reads r/m16, AMD reads 32 bits: registers only.
  - PUSH FS/GS with 64-bit operands: the SDM allows a 16-bit store or a
    zero-extended one; the runner clears the other six bytes (seq.c).
  - INT1 (F1): the host hypervisor reports the RIP of the instruction.
  - Group 2 /6 (SAL alias): blank in the SDM opcode map, not tested.
  - LFENCE/MFENCE/SFENCE: only the ModRM bytes the SDM lists (E8/F0/F8).
  - FAR CALL/JMP m16:64 (REX.W): AMD ignores REX.W (not covered yet).
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

TEMPLATES = []


def T(name, enc, sizes=None, rm="any", undef="", kind="plain", lock=False, feat=None, arg=0, vvvv=False):
    TEMPLATES.append(dict(name=name, enc=enc, sizes=sizes, rm=rm, undef=undef, kind=kind, lock=lock,
                          feat=feat, arg=arg, vvvv=vvvv))


# ---- ALU (SDM vol. 2: ADD, OR, ADC, SBB, AND, SUB, XOR, CMP) ----
# AND/OR/XOR/TEST: "The OF and CF flags are cleared; the SF, ZF, and PF flags
# are set according to the result. The state of the AF flag is undefined."
for base, op, u, lk in ((0x00, "add", "", 1), (0x08, "or", "A", 1), (0x10, "adc", "", 1), (0x18, "sbb", "", 1),
                        (0x20, "and", "A", 1), (0x28, "sub", "", 1), (0x30, "xor", "A", 1), (0x38, "cmp", "", 0)):
    T(f"{op} Eb,Gb", f"{base:02x} /r", sizes="b", undef=u, lock=lk)
    T(f"{op} Ev,Gv", f"{base + 1:02x} /r", undef=u, lock=lk)
    T(f"{op} Gb,Eb", f"{base + 2:02x} /r", sizes="b", undef=u)
    T(f"{op} Gv,Ev", f"{base + 3:02x} /r", undef=u)
    T(f"{op} AL,Ib", f"{base + 4:02x} ib", sizes="b", undef=u)
    T(f"{op} rAX,Iz", f"{base + 5:02x} iz", undef=u)
for ext, op, u in ((0, "add", ""), (1, "or", "A"), (2, "adc", ""), (3, "sbb", ""), (4, "and", "A"), (5, "sub", ""),
                   (6, "xor", "A"), (7, "cmp", "")):
    lk = ext != 7
    T(f"{op} Eb,Ib", f"80 /{ext} ib", sizes="b", undef=u, lock=lk)
    T(f"{op} Ev,Iz", f"81 /{ext} iz", undef=u, lock=lk)
    T(f"{op} Ev,Ib", f"83 /{ext} ib", undef=u, lock=lk)
    T(f"{op} Eb,Ib (82, invalid in 64-bit mode)", f"82 /{ext} ib", sizes="b", kind="ud")
T("test Eb,Gb", "84 /r", sizes="b", undef="A")
T("test Ev,Gv", "85 /r", undef="A")
T("test AL,Ib", "a8 ib", sizes="b", undef="A")
T("test rAX,Iz", "a9 iz", undef="A")
T("test Eb,Ib", "f6 /0 ib", sizes="b", undef="A")
T("test Eb,Ib (f6 /1)", "f6 /1 ib", sizes="b", undef="A")
T("test Ev,Iz", "f7 /0 iz", undef="A")
T("test Ev,Iz (f7 /1)", "f7 /1 iz", undef="A")
T("not Eb", "f6 /2", sizes="b", lock=True)
T("neg Eb", "f6 /3", sizes="b", lock=True)
T("not Ev", "f7 /2", lock=True)
T("neg Ev", "f7 /3", lock=True)
T("inc Eb", "fe /0", sizes="b", lock=True)
T("dec Eb", "fe /1", sizes="b", lock=True)
T("inc Ev", "ff /0", lock=True)
T("dec Ev", "ff /1", lock=True)

# ---- multiply and divide ----
# MUL/IMUL: "The SF, ZF, AF, and PF flags are undefined." DIV/IDIV: "The CF,
# OF, SF, ZF, AF, and PF flags are undefined."
T("mul Eb", "f6 /4", sizes="b", undef="SZAP")
T("imul Eb", "f6 /5", sizes="b", undef="SZAP")
T("mul Ev", "f7 /4", undef="SZAP")
T("imul Ev", "f7 /5", undef="SZAP")
T("imul Gv,Ev", "0f af /r", undef="SZAP")
T("imul Gv,Ev,Iz", "69 /r iz", undef="SZAP")
T("imul Gv,Ev,Ib", "6b /r ib", undef="SZAP")
T("div Eb", "f6 /6", sizes="b", undef="OSZAPC", kind="div")
T("idiv Eb", "f6 /7", sizes="b", undef="OSZAPC", kind="div", arg=1)
T("div Ev", "f7 /6", undef="OSZAPC", kind="div")
T("idiv Ev", "f7 /7", undef="OSZAPC", kind="div", arg=1)

# ---- shifts and rotates: the runner computes the undefined flags from the
# count (SDM SAL/SAR/SHL/SHR and RCL/RCR/ROL/ROR "Flags Affected"). Group 2
# /6 is blank in the SDM opcode map (Table A-6): no template. ----
for ext in (0, 1, 2, 3, 4, 5, 7):
    T(f"shift/{ext} Eb,1", f"d0 /{ext}", sizes="b", kind="shift", arg=1)
    T(f"shift/{ext} Ev,1", f"d1 /{ext}", kind="shift", arg=1)
    T(f"shift/{ext} Eb,CL", f"d2 /{ext}", sizes="b", kind="shift", arg=2)
    T(f"shift/{ext} Ev,CL", f"d3 /{ext}", kind="shift", arg=2)
    T(f"shift/{ext} Eb,Ib", f"c0 /{ext} ib", sizes="b", kind="shift", arg=0)
    T(f"shift/{ext} Ev,Ib", f"c1 /{ext} ib", kind="shift", arg=0)
T("shld Ev,Gv,Ib", "0f a4 /r ib", kind="shxd", arg=0)
T("shld Ev,Gv,CL", "0f a5 /r", kind="shxd", arg=2)
T("shrd Ev,Gv,Ib", "0f ac /r ib", kind="shxd", arg=0)
T("shrd Ev,Gv,CL", "0f ad /r", kind="shxd", arg=2)

# ---- bit instructions ----
# BT/BTS/BTR/BTC: "The CF flag contains the value of the selected bit before
# it is changed. The ZF flag is unaffected. The OF, SF, AF, and PF flags are
# undefined." The register bit offset addresses memory beyond the operand.
T("bt Ev,Gv", "0f a3 /r", undef="OSAP", kind="bitoff")
T("bts Ev,Gv", "0f ab /r", undef="OSAP", kind="bitoff", lock=True)
T("btr Ev,Gv", "0f b3 /r", undef="OSAP", kind="bitoff", lock=True)
T("btc Ev,Gv", "0f bb /r", undef="OSAP", kind="bitoff", lock=True)
T("bt Ev,Ib", "0f ba /4 ib", undef="OSAP")
T("bts Ev,Ib", "0f ba /5 ib", undef="OSAP", lock=True)
T("btr Ev,Ib", "0f ba /6 ib", undef="OSAP", lock=True)
T("btc Ev,Ib", "0f ba /7 ib", undef="OSAP", lock=True)
# BSF/BSR: "The ZF flag is set to 1 if the source operand is 0; otherwise
# cleared. The CF, OF, SF, AF, and PF flags are undefined." The destination
# is undefined for a zero source: the runner compares it only for a non-zero
# source (kind bsf).
T("bsf Gv,Ev", "0f bc /r", undef="OSAPC", kind="bsf")
T("bsr Gv,Ev", "0f bd /r", undef="OSAPC", kind="bsf")
# POPCNT: "OF, SF, ZF, AF, CF, PF are all cleared. ZF is set if SRC = 0."
T("popcnt Gv,Ev", "f3 0f b8 /r", feat="1_ECX.23")
# LZCNT/TZCNT: "ZF ... CF ... The OF, SF, PF and AF flags are undefined."
T("lzcnt Gv,Ev", "f3 0f bd /r", undef="OSAP", feat="81_ECX.5")
T("tzcnt Gv,Ev", "f3 0f bc /r", undef="OSAP", feat="7_EBX.3")
T("bswap Zv", "0f c8+r", sizes="dq")  # 16-bit BSWAP is undefined (SDM BSWAP)

# ---- BMI1 / BMI2 (VEX; SDM ANDN, BEXTR, BLSI, BLSMSK, BLSR, BZHI, MULX,
# PDEP, PEXT, RORX, SARX, SHLX, SHRX) ----
T("andn Gy,By,Ey", "vex.0.0f38.w.none f2 /r", sizes="dq", undef="AP", feat="7_EBX.3", vvvv=True)
T("bextr Gy,Ey,By", "vex.0.0f38.w.none f7 /r", sizes="dq", undef="SAP", feat="7_EBX.3", vvvv=True)
T("blsr By,Ey", "vex.0.0f38.w.none f3 /1", sizes="dq", undef="AP", feat="7_EBX.3", vvvv=True)
T("blsmsk By,Ey", "vex.0.0f38.w.none f3 /2", sizes="dq", undef="AP", feat="7_EBX.3", vvvv=True)
T("blsi By,Ey", "vex.0.0f38.w.none f3 /3", sizes="dq", undef="AP", feat="7_EBX.3", vvvv=True)
T("bzhi Gy,Ey,By", "vex.0.0f38.w.none f5 /r", sizes="dq", undef="AP", feat="7_EBX.8", vvvv=True)
T("mulx By,Gy,Ey", "vex.0.0f38.w.f2 f6 /r", sizes="dq", feat="7_EBX.8", vvvv=True)
T("pdep Gy,By,Ey", "vex.0.0f38.w.f2 f5 /r", sizes="dq", feat="7_EBX.8", vvvv=True)
T("pext Gy,By,Ey", "vex.0.0f38.w.f3 f5 /r", sizes="dq", feat="7_EBX.8", vvvv=True)
T("rorx Gy,Ey,Ib", "vex.0.0f3a.w.f2 f0 /r ib", sizes="dq", feat="7_EBX.8")
T("sarx Gy,Ey,By", "vex.0.0f38.w.f3 f7 /r", sizes="dq", feat="7_EBX.8", vvvv=True)
T("shlx Gy,Ey,By", "vex.0.0f38.w.66 f7 /r", sizes="dq", feat="7_EBX.8", vvvv=True)
T("shrx Gy,Ey,By", "vex.0.0f38.w.f2 f7 /r", sizes="dq", feat="7_EBX.8", vvvv=True)

# ---- ADX, CRC32, MOVBE ----
T("adcx Gy,Ey", "66 0f 38 f6 /r", sizes="dq", feat="7_EBX.19")
T("adox Gy,Ey", "f3 0f 38 f6 /r", sizes="dq", feat="7_EBX.19")
T("crc32 Gy,Eb", "f2 0f 38 f0 /r", sizes="b", kind="crc32b", feat="1_ECX.20")
T("crc32 Gy,Ev", "f2 0f 38 f1 /r", feat="1_ECX.20")
T("movbe Gv,Mv", "0f 38 f0 /r", rm="mem", feat="1_ECX.22")
T("movbe Mv,Gv", "0f 38 f1 /r", rm="mem", feat="1_ECX.22")

# ---- data movement ----
T("mov Eb,Gb", "88 /r", sizes="b")
T("mov Ev,Gv", "89 /r")
T("mov Gb,Eb", "8a /r", sizes="b")
T("mov Gv,Ev", "8b /r")
T("mov Zb,Ib", "b0+r ib", sizes="b")
T("mov Zv,Iv", "b8+r iv")
T("mov Eb,Ib", "c6 /0 ib", sizes="b")
T("mov Ev,Iz", "c7 /0 iz")
T("mov AL,Ob", "a0", sizes="b", kind="moffs")
T("mov rAX,Ov", "a1", kind="moffs")
T("mov Ob,AL", "a2", sizes="b", kind="moffs")
T("mov Ov,rAX", "a3", kind="moffs")
T("mov Ev,Sw", "8c /r", kind="movfromseg")
T("mov Sw,Ew", "8e /r", kind="movtoseg")
T("movzx Gv,Eb", "0f b6 /r", kind="ebsrc")
T("movzx Gv,Ew", "0f b7 /r")
T("movsx Gv,Eb", "0f be /r", kind="ebsrc")
T("movsx Gv,Ew", "0f bf /r")
T("movsxd Gv,Ed", "63 /r", sizes="dq")
# SDM: 66 63 /r is MOVSXD r16, r/m16. AMD reads 32 bits of memory (a #PF
# can differ at a page end), so the 16-bit form is tested on registers only.
T("movsxd Gw,Ew (register)", "63 /r", sizes="w", rm="reg")
T("lea Gv,M", "8d /r", rm="mem", kind="lea")
T("xchg Eb,Gb", "86 /r", sizes="b", lock=True)
T("xchg Ev,Gv", "87 /r", lock=True)
T("xchg Zv,rAX", "90+r", kind="xchgax")
T("cmpxchg Eb,Gb", "0f b0 /r", sizes="b", lock=True)
T("cmpxchg Ev,Gv", "0f b1 /r", lock=True)
T("xadd Eb,Gb", "0f c0 /r", sizes="b", lock=True)
T("xadd Ev,Gv", "0f c1 /r", lock=True)
T("cmpxchg8b Mq", "0f c7 /1", sizes="d", rm="mem", lock=True, kind="cx8")
T("cmpxchg16b Mdq", "0f c7 /1", sizes="q", rm="mem", lock=True, kind="cx8", feat="1_ECX.13")
T("cmovcc Gv,Ev", "0f 40-4f /r")
T("setcc Eb", "0f 90-9f /0", sizes="b")
T("cbw/cwde/cdqe", "98")
T("cwd/cdq/cqo", "99")
T("xlat", "d7", sizes="b", kind="xlat")
T("lahf", "9f", sizes="b", feat="81_ECX.0")
T("sahf", "9e", sizes="b", feat="81_ECX.0")

# ---- flags ----
T("clc", "f8", sizes="b")
T("stc", "f9", sizes="b")
T("cmc", "f5", sizes="b")
T("cld", "fc", sizes="b")
T("std", "fd", sizes="b")
T("pushf", "9c", sizes="wq", kind="stack")
T("popf", "9d", sizes="wq", kind="popf")
T("cli (CPL 3, IOPL 0: #GP)", "fa", sizes="b")
T("sti (CPL 3, IOPL 0: #GP)", "fb", sizes="b")

# ---- stack ----
T("push Zv", "50+r", sizes="wq", kind="stack")
T("pop Zv", "58+r", sizes="wq", kind="stack")
T("push Ev", "ff /6", sizes="wq", kind="stack")
T("pop Ev", "8f /0", sizes="wq", kind="stack")
T("push Iz", "68 iz", sizes="wq", kind="stack")
T("push Ib", "6a ib", sizes="wq", kind="stack")
T("push FS", "0f a0", sizes="wq", kind="pushseg")
T("push GS", "0f a8", sizes="wq", kind="pushseg")
T("pop GS", "0f a9", sizes="wq", kind="popgs")
T("enter Iw,Ib", "c8 iwb", sizes="wq", kind="enter")
T("leave", "c9", sizes="wq", kind="leave")

# ---- control transfer within the sequence ----
T("jcc Jb", "70-7f ib", sizes="b", kind="jcc")
T("jcc Jz", "0f 80-8f iz", sizes="b", kind="jcc")
T("jmp Jb", "eb ib", sizes="b", kind="jcc")
T("jmp Jz", "e9 iz", sizes="b", kind="jcc")
T("loopne/loope/loop Jb", "e0-e2 ib", sizes="b", kind="loop")
T("jrcxz Jb", "e3 ib", sizes="b", kind="loop")
T("call Jz; ret", "e8 iz", sizes="b", kind="callret")
T("call Jz; ret Iw", "e8 iz", sizes="b", kind="callret", arg=1)
T("call Ev", "ff /2", sizes="q", kind="callind")
T("jmp Ev", "ff /4", sizes="q", kind="jmpind")

# ---- string instructions (REP/REPNE, both address sizes, both DF) ----
T("movs", "a4-a5", kind="string")
T("cmps", "a6-a7", kind="string")
T("stos", "aa-ab", kind="string")
T("lods", "ac-ad", kind="string")
T("scas", "ae-af", kind="string")

# ---- no-ops, hints, fences ----
T("nop", "90", sizes="b")
T("pause", "f3 90", sizes="b")
T("nop Ev", "0f 1f /0")
T("prefetch Mb", "0f 18 /r", rm="mem")
T("prefetchw Mb", "0f 0d /1", rm="mem")
T("clflush Mb", "0f ae /7", sizes="b", rm="mem")
# The SDM lists only ModRM E8/F0/F8 (NP 0F AE E8 etc.).
T("lfence", "0f ae /m3:e8", sizes="b", rm="reg")
T("mfence", "0f ae /m3:f0", sizes="b", rm="reg")
T("sfence", "0f ae /m3:f8", sizes="b", rm="reg")
T("fwait", "9b", sizes="b")

# ---- faults at CPL 3 in 64-bit mode ----
T("int3", "cc", sizes="b")
T("int Ib", "cd ib", sizes="b", kind="intn")
T("ud2", "0f 0b", sizes="b")
T("ud1", "0f b9 /r", sizes="d")
T("ud0", "0f ff /r", sizes="d")
T("hlt", "f4", sizes="b")
T("in AL,Ib", "e4 ib", sizes="b")
T("in eAX,Ib", "e5 ib", sizes="wd")
T("out Ib,AL", "e6 ib", sizes="b")
T("out Ib,eAX", "e7 ib", sizes="wd")
T("in AL,DX", "ec", sizes="b")
T("in eAX,DX", "ed", sizes="wd")
T("out DX,AL", "ee", sizes="b")
T("out DX,eAX", "ef", sizes="wd")
T("ins", "6c-6d", sizes="d")
T("outs", "6e-6f", sizes="d")
T("mov Rd,Cd", "0f 20 /r", sizes="q", rm="reg", kind="crreg")
T("mov Rd,Dd", "0f 21 /r", sizes="q", rm="reg", kind="crreg")
T("mov Cd,Rd", "0f 22 /r", sizes="q", rm="reg", kind="crreg")
T("mov Dd,Rd", "0f 23 /r", sizes="q", rm="reg", kind="crreg")
T("lldt Ew", "0f 00 /2", sizes="w")
T("ltr Ew", "0f 00 /3", sizes="w")
T("lgdt Ms", "0f 01 /2", sizes="q", rm="mem")
T("lidt Ms", "0f 01 /3", sizes="q", rm="mem")
T("lmsw Ew", "0f 01 /6", sizes="w")
T("invlpg Mb", "0f 01 /7", sizes="q", rm="mem")
T("swapgs", "0f 01 /m3:f8", sizes="b")
T("clts", "0f 06", sizes="b")
T("sysret", "0f 07", sizes="d")
T("invd", "0f 08", sizes="b")
T("wbinvd", "0f 09", sizes="b")
T("wrmsr", "0f 30", sizes="b")
T("rdmsr", "0f 32", sizes="b")
T("sysexit", "0f 35", sizes="d")
# Invalid in 64-bit mode: #UD (SDM vol. 2, Appendix A, "i64").
for op, nm in ((0x06, "push ES"), (0x07, "pop ES"), (0x0e, "push CS"), (0x16, "push SS"), (0x17, "pop SS"),
               (0x1e, "push DS"), (0x1f, "pop DS"), (0x27, "daa"), (0x2f, "das"), (0x37, "aaa"), (0x3f, "aas"),
               (0x60, "pusha"), (0x61, "popa"), (0xce, "into"), (0xd6, "salc")):
    T(f"{nm} (invalid in 64-bit mode)", f"{op:02x}", sizes="d", kind="ud")
T("aam Ib (invalid in 64-bit mode)", "d4 ib", sizes="b", kind="ud")
T("aad Ib (invalid in 64-bit mode)", "d5 ib", sizes="b", kind="ud")
T("bound (invalid in 64-bit mode)", "62 /r", sizes="d", kind="ud", rm="reg")
T("call Ap (invalid in 64-bit mode)", "9a iz iw", sizes="d", kind="ud")
T("jmp Ap (invalid in 64-bit mode)", "ea iz iw", sizes="d", kind="ud")

# ---- SSE/SSE2 (MXCSR at its reset value 1F80H: all exceptions masked,
# round to nearest). The runner loads the XMM operands from memory with
# MOVDQU and stores the destination back, so results are compared through
# memory. ----
SSE_RR = [
    # integer (SSE2, 66 0F)
    ("paddb", "66 0f fc"), ("paddw", "66 0f fd"), ("paddd", "66 0f fe"), ("paddq", "66 0f d4"),
    ("psubb", "66 0f f8"), ("psubw", "66 0f f9"), ("psubd", "66 0f fa"), ("psubq", "66 0f fb"),
    ("paddsb", "66 0f ec"), ("paddsw", "66 0f ed"), ("paddusb", "66 0f dc"), ("paddusw", "66 0f dd"),
    ("psubsb", "66 0f e8"), ("psubsw", "66 0f e9"), ("psubusb", "66 0f d8"), ("psubusw", "66 0f d9"),
    ("pand", "66 0f db"), ("pandn", "66 0f df"), ("por", "66 0f eb"), ("pxor", "66 0f ef"),
    ("pcmpeqb", "66 0f 74"), ("pcmpeqw", "66 0f 75"), ("pcmpeqd", "66 0f 76"),
    ("pcmpgtb", "66 0f 64"), ("pcmpgtw", "66 0f 65"), ("pcmpgtd", "66 0f 66"),
    ("pmullw", "66 0f d5"), ("pmulhw", "66 0f e5"), ("pmulhuw", "66 0f e4"), ("pmuludq", "66 0f f4"),
    ("pmaddwd", "66 0f f5"), ("psadbw", "66 0f f6"), ("pavgb", "66 0f e0"), ("pavgw", "66 0f e3"),
    ("pminub", "66 0f da"), ("pmaxub", "66 0f de"), ("pminsw", "66 0f ea"), ("pmaxsw", "66 0f ee"),
    ("punpcklbw", "66 0f 60"), ("punpcklwd", "66 0f 61"), ("punpckldq", "66 0f 62"), ("punpcklqdq", "66 0f 6c"),
    ("punpckhbw", "66 0f 68"), ("punpckhwd", "66 0f 69"), ("punpckhdq", "66 0f 6a"), ("punpckhqdq", "66 0f 6d"),
    ("packsswb", "66 0f 63"), ("packuswb", "66 0f 67"), ("packssdw", "66 0f 6b"),
    ("psrlw", "66 0f d1"), ("psrld", "66 0f d2"), ("psrlq", "66 0f d3"), ("psraw", "66 0f e1"),
    ("psrad", "66 0f e2"), ("psllw", "66 0f f1"), ("pslld", "66 0f f2"), ("psllq", "66 0f f3"),
    # floating point (SSE 0F, SSE2 66 0F, scalar F3/F2 0F)
    ("addps", "0f 58"), ("addpd", "66 0f 58"), ("addss", "f3 0f 58"), ("addsd", "f2 0f 58"),
    ("mulps", "0f 59"), ("mulpd", "66 0f 59"), ("mulss", "f3 0f 59"), ("mulsd", "f2 0f 59"),
    ("subps", "0f 5c"), ("subpd", "66 0f 5c"), ("subss", "f3 0f 5c"), ("subsd", "f2 0f 5c"),
    ("minps", "0f 5d"), ("minpd", "66 0f 5d"), ("minss", "f3 0f 5d"), ("minsd", "f2 0f 5d"),
    ("divps", "0f 5e"), ("divpd", "66 0f 5e"), ("divss", "f3 0f 5e"), ("divsd", "f2 0f 5e"),
    ("maxps", "0f 5f"), ("maxpd", "66 0f 5f"), ("maxss", "f3 0f 5f"), ("maxsd", "f2 0f 5f"),
    ("sqrtps", "0f 51"), ("sqrtpd", "66 0f 51"), ("sqrtss", "f3 0f 51"), ("sqrtsd", "f2 0f 51"),
    ("andps", "0f 54"), ("andpd", "66 0f 54"), ("andnps", "0f 55"), ("andnpd", "66 0f 55"),
    ("orps", "0f 56"), ("orpd", "66 0f 56"), ("xorps", "0f 57"), ("xorpd", "66 0f 57"),
    ("unpcklps", "0f 14"), ("unpcklpd", "66 0f 14"), ("unpckhps", "0f 15"), ("unpckhpd", "66 0f 15"),
    ("cvtps2pd", "0f 5a"), ("cvtpd2ps", "66 0f 5a"), ("cvtss2sd", "f3 0f 5a"), ("cvtsd2ss", "f2 0f 5a"),
    ("cvtdq2ps", "0f 5b"), ("cvtps2dq", "66 0f 5b"), ("cvttps2dq", "f3 0f 5b"),
    ("cvtdq2pd", "f3 0f e6"), ("cvtpd2dq", "f2 0f e6"), ("cvttpd2dq", "66 0f e6"),
    ("movaps", "0f 28"), ("movapd", "66 0f 28"), ("movups", "0f 10"), ("movupd", "66 0f 10"),
    ("movss", "f3 0f 10"), ("movsd", "f2 0f 10"), ("movdqa", "66 0f 6f"), ("movdqu", "f3 0f 6f"),
    ("movq", "f3 0f 7e"),
]
for nm, enc in SSE_RR:
    feat = "1_EDX.25" if not enc.startswith(("66", "f2")) and nm not in ("cvtdq2pd",) else "1_EDX.26"
    T(f"{nm} Vx,Wx", f"{enc} /r", sizes="x", kind="sse", feat=feat)
for nm, enc in (("pshufd", "66 0f 70"), ("pshuflw", "f2 0f 70"), ("pshufhw", "f3 0f 70"), ("shufps", "0f c6"),
                ("shufpd", "66 0f c6"), ("cmpps", "0f c2"), ("cmppd", "66 0f c2"), ("cmpss", "f3 0f c2"),
                ("cmpsd", "f2 0f c2")):
    T(f"{nm} Vx,Wx,Ib", f"{enc} /r ib", sizes="x", kind="sse", feat="1_EDX.26" if "66" in enc or "f" in enc[:2] else "1_EDX.25")
for nm, enc in (("psrlw", "66 0f 71 /2"), ("psraw", "66 0f 71 /4"), ("psllw", "66 0f 71 /6"),
                ("psrld", "66 0f 72 /2"), ("psrad", "66 0f 72 /4"), ("pslld", "66 0f 72 /6"),
                ("psrlq", "66 0f 73 /2"), ("psrldq", "66 0f 73 /3"), ("psllq", "66 0f 73 /6"),
                ("pslldq", "66 0f 73 /7")):
    T(f"{nm} Ux,Ib", f"{enc} ib", sizes="x", rm="reg", kind="sse", feat="1_EDX.26", arg=4)
# COMISS/UCOMISS: "ZF, PF, CF ... OF, SF, AF cleared" (no undefined flags).
for nm, enc in (("ucomiss", "0f 2e"), ("comiss", "0f 2f"), ("ucomisd", "66 0f 2e"), ("comisd", "66 0f 2f")):
    T(f"{nm} Vx,Wx", f"{enc} /r", sizes="x", kind="sse", feat="1_EDX.26" if enc.startswith("66") else "1_EDX.25")
# To general registers.
# arg bit 0: ModRM.reg is a general register; bit 1: ModRM.rm is one.
T("pmovmskb Gd,Ux", "66 0f d7 /r", sizes="x", rm="reg", kind="ssegpr", feat="1_EDX.26", arg=1)
T("movmskps Gd,Ux", "0f 50 /r", sizes="x", rm="reg", kind="ssegpr", feat="1_EDX.25", arg=1)
T("movmskpd Gd,Ux", "66 0f 50 /r", sizes="x", rm="reg", kind="ssegpr", feat="1_EDX.26", arg=1)
T("movd/q Ey,Vx", "66 0f 7e /r", sizes="dq", kind="ssegpr", feat="1_EDX.26", arg=2)
T("movd/q Vx,Ey", "66 0f 6e /r", sizes="dq", kind="sse", feat="1_EDX.26", arg=2)
T("cvttss2si Gy,Wss", "f3 0f 2c /r", sizes="dq", kind="ssegpr", feat="1_EDX.25", arg=1)
T("cvtss2si Gy,Wss", "f3 0f 2d /r", sizes="dq", kind="ssegpr", feat="1_EDX.25", arg=1)
T("cvttsd2si Gy,Wsd", "f2 0f 2c /r", sizes="dq", kind="ssegpr", feat="1_EDX.26", arg=1)
T("cvtsd2si Gy,Wsd", "f2 0f 2d /r", sizes="dq", kind="ssegpr", feat="1_EDX.26", arg=1)
T("cvtsi2ss Vx,Ey", "f3 0f 2a /r", sizes="dq", kind="sse", feat="1_EDX.25", arg=2)
T("cvtsi2sd Vx,Ey", "f2 0f 2a /r", sizes="dq", kind="sse", feat="1_EDX.26", arg=2)

# Stores and partial moves. arg bit 2: the destination is ModRM.rm (an XMM
# register is stored back; a memory destination is compared as memory).
for nm, enc, rm, feat in (("movups Wx,Vx", "0f 11", "any", 25), ("movupd Wx,Vx", "66 0f 11", "any", 26),
                          ("movss Wss,Vss", "f3 0f 11", "any", 25), ("movsd Wsd,Vsd", "f2 0f 11", "any", 26),
                          ("movaps Wx,Vx", "0f 29", "any", 25), ("movapd Wx,Vx", "66 0f 29", "any", 26),
                          ("movdqa Wx,Vx", "66 0f 7f", "any", 26), ("movdqu Wx,Vx", "f3 0f 7f", "any", 26),
                          ("movq Wq,Vq", "66 0f d6", "any", 26),
                          ("movlps Mq,Vq", "0f 13", "mem", 25), ("movlpd Mq,Vq", "66 0f 13", "mem", 26),
                          ("movhps Mq,Vq", "0f 17", "mem", 25), ("movhpd Mq,Vq", "66 0f 17", "mem", 26),
                          ("movntps Mx,Vx", "0f 2b", "mem", 25), ("movntpd Mx,Vx", "66 0f 2b", "mem", 26),
                          ("movntdq Mx,Vx", "66 0f e7", "mem", 26)):
    T(nm, f"{enc} /r", sizes="x", rm=rm, kind="sse", feat=f"1_EDX.{feat}", arg=4)
# 0F 12 / 0F 16 register forms are MOVHLPS / MOVLHPS.
T("movlps Vq,Mq / movhlps", "0f 12 /r", sizes="x", kind="sse", feat="1_EDX.25")
T("movhps Vq,Mq / movlhps", "0f 16 /r", sizes="x", kind="sse", feat="1_EDX.25")
T("movlpd Vq,Mq", "66 0f 12 /r", sizes="x", rm="mem", kind="sse", feat="1_EDX.26")
T("movhpd Vq,Mq", "66 0f 16 /r", sizes="x", rm="mem", kind="sse", feat="1_EDX.26")
T("movnti My,Gy", "0f c3 /r", sizes="dq", rm="mem", feat="1_EDX.26")
T("pinsrw Vx,Ew,Ib", "66 0f c4 /r ib", sizes="x", kind="sse", feat="1_EDX.26", arg=2)
T("pextrw Gd,Ux,Ib", "66 0f c5 /r ib", sizes="x", rm="reg", kind="ssegpr", feat="1_EDX.26", arg=1)
# MASKMOVDQU: the destination is DS:[RDI] (EDI with 67), arg bit 3.
T("maskmovdqu Vx,Ux", "66 0f f7 /r", sizes="x", rm="reg", kind="sse", feat="1_EDX.26", arg=8)

# ---- x87 control (SDM vol. 2 FINIT, FCLEX, FNOP, FSTCW, FLDCW, FSTSW,
# FSTENV, FLDENV, FSAVE, FRSTOR). Both sides start every sequence from
# FNINIT with R0-R7 = 1.0 and MXCSR 1F80H (native.c, vm.c); kind x87 stores
# the environment (FNSTENV) into the data page after the instruction, so
# the x87 state is compared through memory. ----
T("fninit", "db /m3:e3", sizes="b", rm="reg", kind="x87")
T("fnclex", "db /m3:e2", sizes="b", rm="reg", kind="x87")
T("fnop", "d9 /m3:d0", sizes="b", rm="reg", kind="x87", arg=4)
# DB E0/E1/E4 are 8087/287 instructions the SDM does not define further;
# the host leaves FIP alone for them: FIP is not compared (arg 5).
T("fnop (db e0, FENI on the 8087)", "db /m3:e0", sizes="b", rm="reg", kind="x87", arg=5)
T("fnop (db e1, FDISI on the 8087)", "db /m3:e1", sizes="b", rm="reg", kind="x87", arg=5)
T("fnop (db e4, FSETPM on the 287)", "db /m3:e4", sizes="b", rm="reg", kind="x87", arg=5)
T("fnstcw Mw", "d9 /7", rm="mem", kind="x87")
T("fldcw Mw", "d9 /5", rm="mem", kind="x87", arg=1)
T("fnstsw Mw", "dd /7", rm="mem", kind="x87")
T("fnstsw AX", "df /m3:e0", sizes="b", rm="reg", kind="x87")
T("fnstenv M", "d9 /6", rm="mem", kind="x87")
T("fldenv M", "d9 /4", rm="mem", kind="x87", arg=2)
T("fnsave M", "dd /6", rm="mem", kind="x87")
T("frstor M", "dd /4", rm="mem", kind="x87", arg=3)

# ---- FXSAVE/XSAVE family, MXCSR, XCR0. vtxsim's XCR0 is the host's
# restricted to the components vtxsim implements (vm.c); the requested-
# feature bitmap EDX:EAX never names a component outside it. arg: 0 save
# FXSAVE, 1 FXRSTOR, 2 LDMXCSR, 3 STMXCSR, 4 XSAVE, 5 XRSTOR, 6 XSAVEOPT,
# 7 XSAVEC. ----
for nm, enc, a, ft in (("fxsave M", "0f ae /0", 0, "1_EDX.24"), ("fxrstor M", "0f ae /1", 1, "1_EDX.24"),
                       ("ldmxcsr Md", "0f ae /2", 2, "1_EDX.25"), ("stmxcsr Md", "0f ae /3", 3, "1_EDX.25"),
                       ("xsave M", "0f ae /4", 4, "1_ECX.26"), ("xrstor M", "0f ae /5", 5, "1_ECX.26"),
                       ("xsaveopt M", "0f ae /6", 6, "1_ECX.26"), ("xsavec M", "0f c7 /4", 7, "1_ECX.26")):
    T(nm, enc, sizes="d" if a in (2, 3) else "dq", rm="mem", kind="xsave", feat=ft, arg=a)
T("xgetbv", "0f 01 /m3:d0", sizes="b", rm="reg", kind="xgetbv", feat="1_ECX.26")
# Privileged at CPL 3 (#GP(0)) or absent (#UD) on both sides.
T("xsetbv (CPL 3: #GP)", "0f 01 /m3:d1", sizes="b", rm="reg", feat="1_ECX.26")
T("monitor (no MONITOR/MWAIT: #UD)", "0f 01 /m3:c8", sizes="b", rm="reg")
T("mwait (no MONITOR/MWAIT: #UD)", "0f 01 /m3:c9", sizes="b", rm="reg")
T("clac (CPL 3: #UD)", "0f 01 /m3:ca", sizes="b", rm="reg")
T("stac (CPL 3: #UD)", "0f 01 /m3:cb", sizes="b", rm="reg")
T("rdpkru (CR4.PKE 0: #UD)", "0f 01 /m3:ee", sizes="b", rm="reg", kind="pkru")
T("wrpkru (CR4.PKE 0: #UD)", "0f 01 /m3:ef", sizes="b", rm="reg", kind="pkru")
T("invpcid Gy,Mdq (CPL 3: #GP)", "66 0f 38 82 /r", sizes="q", rm="mem", feat="7_EBX.10")
T("lar Gv,Ew", "0f 02 /r", kind="lar")
T("lsl Gv,Ew", "0f 03 /r", kind="lar")
# FS/GS base: both sides start from the host process's bases; a write is
# followed by a set-up that writes the original base back (native.c needs
# its TLS base).
T("rdfsbase Ry", "f3 0f ae /0", sizes="dq", rm="reg", feat="7_EBX.0")
T("rdgsbase Ry", "f3 0f ae /1", sizes="dq", rm="reg", feat="7_EBX.0")
T("wrfsbase Ry", "f3 0f ae /2", sizes="dq", rm="reg", kind="wrbase", feat="7_EBX.0")
T("wrgsbase Ry", "f3 0f ae /3", sizes="dq", rm="reg", kind="wrbase", feat="7_EBX.0", arg=1)
T("clflushopt Mb", "66 0f ae /7", sizes="b", rm="mem", feat="7_EBX.23")
T("clwb Mb", "66 0f ae /6", sizes="b", rm="mem", feat="7_EBX.24")

# Rows that get no template, and why (printed in the coverage report).
NO_TEMPLATE = {
    "op_cpuid": "host CPUID differs from the vtxsim model",
    "op_rdtsc": "time-dependent", "op_rdtscp": "time-dependent",
    "op_rdrand_Rv": "random by definition", "op_rdseed_Rv": "random by definition",
    "op_rdpid_Rq": "host TSC_AUX is the host CPU number",
    "op_syscall": "enters the host kernel",
    "op_sysenter": "enters the host kernel (and #UD on AMD in 64-bit mode)",
    "op_sgdt_Ms": "host kernel emulates UMIP", "op_sidt_Ms": "host kernel emulates UMIP",
    "op_sldt_Ev": "host kernel emulates UMIP", "op_str_Ev": "host kernel emulates UMIP",
    "op_smsw_Ew": "host kernel emulates UMIP",
    "op_verr_Ew": "host GDT differs", "op_verw_Ew": "host GDT differs",
    "op_pop_FS": "would replace the host's TLS base",
    "op_mov_Sw_Ew/4": "MOV FS would replace the host's TLS base",
    "op_lfs_Gv_Mp": "would replace the host's TLS base",
    "op_lgs_Gv_Mp": "far pointer load of GS: not covered yet",
    "op_lss_Gv_Mp": "far pointer load: not covered yet",
    "op_les_Gv_Mp": "C4 is VEX in 64-bit mode", "op_lds_Gv_Mp": "C5 is VEX in 64-bit mode",
    "op_inc_Zv": "40-4F are REX in 64-bit mode", "op_dec_Zv": "40-4F are REX in 64-bit mode",
    "op_call_Mp": "far transfer: not covered yet", "op_jmp_Mp": "far transfer: not covered yet",
    "op_retf": "far transfer: not covered yet", "op_iret": "far transfer: not covered yet",
    "op_x87_esc": "x87 arithmetic and data transfer: not implemented in vtxsim (#UD)",
    "op_arpl_Ew_Gw": "63 is MOVSXD in 64-bit mode; the 32-bit run is not built",
    "op_int1": "the host hypervisor (KVM on AMD) reports INT1 with the RIP of the instruction, not after it",
}

# Rows reached by a template's companion instruction (call Jz; ret).
ALSO_REACHED = {"op_ret", "op_ret_Iw"}

FLAG_BITS = dict(C=0x1, P=0x4, A=0x10, Z=0x40, S=0x80, O=0x800)
WORDS = {"1_ECX": "CPUID_1_ECX", "1_EDX": "CPUID_1_EDX", "7_EBX": "CPUID_7_EBX", "7_ECX": "CPUID_7_ECX",
         "7_EDX": "CPUID_7_EDX", "81_ECX": "CPUID_81_ECX", "81_EDX": "CPUID_81_EDX"}
KINDS = ["plain", "ud", "div", "shift", "shxd", "bitoff", "bsf", "crc32b", "moffs", "movfromseg", "movtoseg",
         "ebsrc", "lea", "xchgax", "cx8", "xlat", "stack", "popf", "popgs", "enter", "leave", "jcc", "loop",
         "callret", "callind", "jmpind", "string", "intn", "crreg", "sse", "ssegpr", "pushseg", "x87", "xsave",
         "xgetbv", "pkru", "lar", "wrbase"]
IMMS = {"ib": "IM_B", "iw": "IM_W", "iz": "IM_Z", "iv": "IM_V", "iwb": "IM_WB"}


def encode(t):
    toks = t["enc"].split()
    e = dict(pfx=0, map=0, lo=0, hi=0, ext=-1, modrm=-1, opreg=0, imm=[], vex=None)
    if toks[0].startswith("vex."):
        _, l, m, w, pp = toks.pop(0).split(".")
        e["vex"] = dict(L=int(l), W=w, pp={"none": 0, "66": 1, "f3": 2, "f2": 3}[pp])
        e["map"] = {"0f": 1, "0f38": 2, "0f3a": 3}[m]
    while len(toks) > 1 and toks[0] in ("66", "f2", "f3") and not toks[1].startswith(("/", "i")):
        e["pfx"] = int(toks.pop(0), 16)
    if toks[0] == "0f":
        toks.pop(0)
        e["map"] = 1
        if toks[0] in ("38", "3a") and len(toks) > 1 and re.match(r"^[0-9a-f]{2}", toks[1]):
            e["map"] = 2 if toks.pop(0) == "38" else 3
    op = toks.pop(0)
    if op.endswith("+r"):
        e["opreg"] = 1
        op = op[:-2]
    lo, _, hi = op.partition("-")
    e["lo"], e["hi"] = int(lo, 16), int(hi or lo, 16)
    for tk in toks:
        if tk == "/r":
            e["modrm"] = 0
        elif re.match(r"^/[0-7]$", tk):
            e["modrm"], e["ext"] = 0, int(tk[1])
        elif tk.startswith("/m3:"):
            e["modrm"], e["ext"] = 0, 0x100 | int(tk[4:], 16)
        elif tk in IMMS:
            e["imm"].append(IMMS[tk])
        else:
            sys.exit(f"gen.py: {t['name']}: bad token {tk}")
    return e


def c_row(t):
    e = encode(t)
    sizes = t["sizes"] if t["sizes"] is not None else "wdq"
    smask = sum(dict(b=1, w=2, d=4, q=8, x=16)[ch] for ch in sizes)
    undef = sum(FLAG_BITS[ch] for ch in t["undef"])
    feat = "0"
    if t["feat"]:
        w, bit = t["feat"].split(".")
        feat = f"CPUID_FEATURE({WORDS[w]}, {int(bit)}) + 1"
    imm = " | ".join(e["imm"]) if e["imm"] else "IM_NONE"
    if len(e["imm"]) == 2:      # far pointer: immediate then selector
        imm = "IM_AP"
    rm = {"any": "RM_ANY", "reg": "RM_REG", "mem": "RM_MEM"}[t["rm"]] if e["modrm"] >= 0 else "RM_NONE"
    v = e["vex"]
    vex = "0"
    if v:
        vex = f"VEX_ON | {v['L']} << 1 | {v['pp']} << 2 | {1 if v['W'] == '1' else 0} << 4 | " \
              f"{1 if v['W'] == 'w' else 0} << 5 | {1 if t['vvvv'] else 0} << 6"
    name = t["name"].replace('"', '\\"')
    return (f'\t{{ "{name}", 0x{e["pfx"]:02x}, {e["map"]}, 0x{e["lo"]:02x}, 0x{e["hi"]:02x}, {e["ext"]}, '
            f'{rm}, {imm}, 0x{smask:02x}, DK_{t["kind"].upper()}, {e["opreg"]}, {1 if t["lock"] else 0}, '
            f'0x{undef:03x}, {feat}, {vex}, {t["arg"]} }},')


def opcode_rows():
    rows = []
    pat = re.compile(r"^OP\((\d), 0x([0-9a-f]{2}), 0x([0-9a-f]{2}), ([^,]+), ([^,]+), (\w+), \d+\)")
    with open(os.path.join(ROOT, "cpu", "opcodes.def")) as f:
        for line in f:
            m = pat.match(line)
            if m:
                ext = m.group(4).strip()
                ext = -1 if ext == "X" else (0x100 | int(ext[3:-1], 16) if ext.startswith("M3") else int(ext))
                rows.append((int(m.group(1)), int(m.group(2), 16), int(m.group(3), 16), ext, m.group(5),
                             m.group(6)))
    return rows


def reaches(e, row):
    """Whether template encoding e can land on opcodes.def row (roughly as the
    decoder's row_matches does: map, byte range, ModRM.reg group, prefix)."""
    if e["vex"]:
        return False
    mp, lo, hi, ext, form, _ = row
    if mp != e["map"] or e["hi"] < lo or e["lo"] > hi:
        return False
    if ext >= 0x100:
        return e["ext"] == ext
    if ext >= 0 and e["ext"] >= 0 and e["ext"] != ext and e["ext"] < 0x100:
        return False
    if e["ext"] >= 0x100 and ext >= 0:
        return False
    if "D_PF3" in form and e["pfx"] != 0xF3:
        return False
    if "D_PF2" in form and e["pfx"] != 0xF2:
        return False
    if "D_P66" in form and e["pfx"] != 0x66:
        return False
    if ("D_PNP" in form) and e["pfx"] in (0xF2, 0xF3):
        return False
    return True


def main():
    for t in TEMPLATES:
        assert t["kind"] in KINDS, t["name"]
    encs = [encode(t) for t in TEMPLATES]
    rows = opcode_rows()
    missing = [r[5] for r in rows if not any(reaches(e, r) for e in encs) and r[5] not in NO_TEMPLATE
               and r[5] not in ALSO_REACHED]
    out = os.path.join(HERE, "templates.gen.c")
    with open(out, "w") as f:
        f.write("/* Generated by tests/diff/gen.py from its template list: do not edit.\n"
                " * Regenerate with `make diffgen`. */\n"
                '#include "cpu/cpuid.h"\n#include "tests/diff/diff.h"\n\n'
                "const struct diff_tmpl diff_tmpls[] = {\n")
        for t in TEMPLATES:
            f.write(c_row(t) + "\n")
        f.write("};\n\nconst unsigned diff_ntmpls = sizeof(diff_tmpls) / sizeof(diff_tmpls[0]);\n\n"
                "/* opcodes.def handlers deliberately without a template. */\n"
                "const struct diff_no_tmpl diff_no_tmpls[] = {\n")
        for h, why in sorted(NO_TEMPLATE.items()):
            f.write(f'\t{{ "{h[3:]}", "{why}" }},\n')
        f.write("\t{ 0, 0 },\n};\n")
    print(f"gen.py: {len(TEMPLATES)} templates -> {os.path.relpath(out, ROOT)}")
    for h in missing:
        print(f"gen.py: opcodes.def row {h} has no template")


if __name__ == "__main__":
    main()
