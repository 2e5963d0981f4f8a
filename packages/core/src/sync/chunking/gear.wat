;; The content-defined chunker's cut-point search (cdc.ts `cutPoint`) in WebAssembly: the same
;; gear hash and the same cut points, about twice as fast as the JavaScript loop, and at full
;; speed from its first call (no JIT warm-up). `pnpm build` compiles this file to gear.wasm
;; (scripts/build-wasm.mjs); gear-wasm.ts loads it. Memory layout: the 256 gear values as i32 at
;; address 0, the bytes to scan from address 1024 on (the caller copies them there).
(module
  (memory (export "memory") 1)

  ;; Rolls the gear hash from state $h over bytes [$i, $to) and returns the address just past the
  ;; first byte whose hash clears $mask, or 0 when none does. Unrolled 8 times.
  (func $firstCut (param $i i32) (param $to i32) (param $mask i32) (param $h i32) (result i32)
    (block $tail
      (loop $eight
        (br_if $tail (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $to)))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u offset=0 (local.get $i)) (i32.const 2)))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
          (then (return (i32.add (local.get $i) (i32.const 1)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u offset=1 (local.get $i)) (i32.const 2)))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
          (then (return (i32.add (local.get $i) (i32.const 2)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u offset=2 (local.get $i)) (i32.const 2)))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
          (then (return (i32.add (local.get $i) (i32.const 3)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u offset=3 (local.get $i)) (i32.const 2)))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
          (then (return (i32.add (local.get $i) (i32.const 4)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u offset=4 (local.get $i)) (i32.const 2)))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
          (then (return (i32.add (local.get $i) (i32.const 5)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u offset=5 (local.get $i)) (i32.const 2)))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
          (then (return (i32.add (local.get $i) (i32.const 6)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u offset=6 (local.get $i)) (i32.const 2)))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
          (then (return (i32.add (local.get $i) (i32.const 7)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u offset=7 (local.get $i)) (i32.const 2)))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $mask)))
          (then (return (i32.add (local.get $i) (i32.const 8)))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $eight)))
    (block $none
      (loop $one
        (br_if $none (i32.ge_u (local.get $i) (local.get $to)))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u (local.get $i)) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (if (i32.eqz (i32.and (local.get $h) (local.get $mask))) (then (return (local.get $i))))
        (br $one)))
    (i32.const 0))

  ;; The gear hash of bytes [$i, $to) from state 0.
  (func $gearHash (param $i i32) (param $to i32) (result i32)
    (local $h i32)
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $i) (local.get $to)))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
          (i32.load (i32.shl (i32.load8_u (local.get $i)) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $one)))
    (local.get $h))

  ;; Where the data chunk starting at address $start ends, looking no further than $end: exactly
  ;; cdc.ts `cutPoint` (min-size skipping, the strict mask up to $avg, the loose one up to $max).
  (func (export "cutPoint") (param $start i32) (param $end i32) (param $min i32) (param $avg i32)
    (param $max i32) (param $maskStrict i32) (param $maskLoose i32) (result i32)
    (local $maxEnd i32) (local $strictEnd i32) (local $from i32) (local $cut i32) (local $hashFrom i32)
    (if (i32.le_u (i32.sub (local.get $end) (local.get $start)) (local.get $min))
      (then (return (local.get $end))))
    (local.set $maxEnd (i32.add (local.get $start) (local.get $max)))
    (if (i32.lt_u (local.get $end) (local.get $maxEnd)) (then (local.set $maxEnd (local.get $end))))
    (local.set $strictEnd (i32.add (local.get $start) (local.get $avg)))
    (if (i32.lt_u (local.get $maxEnd) (local.get $strictEnd))
      (then (local.set $strictEnd (local.get $maxEnd))))
    (local.set $from (i32.add (local.get $start) (local.get $min)))
    (local.set $cut (call $firstCut (local.get $from) (local.get $strictEnd) (local.get $maskStrict) (i32.const 0)))
    (if (local.get $cut) (then (return (local.get $cut))))
    ;; 32 shifts push a byte out of the 32-bit hash: the last 32 bytes give the state at strictEnd
    (local.set $hashFrom (i32.sub (local.get $strictEnd) (i32.const 32)))
    (if (i32.lt_u (local.get $hashFrom) (local.get $from)) (then (local.set $hashFrom (local.get $from))))
    (local.set $cut (call $firstCut (local.get $strictEnd) (local.get $maxEnd) (local.get $maskLoose)
      (call $gearHash (local.get $hashFrom) (local.get $strictEnd))))
    (if (result i32) (local.get $cut) (then (local.get $cut)) (else (local.get $maxEnd))))
)
