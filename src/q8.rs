//! Q8_0 matrices in 16-row tiles, multiplied by a few rows at a time with VNNI.
//!
//! Token-by-token decoding multiplies one to a few rows (one per beam, or per batched reply) by
//! every weight matrix. candle's Q8_0 product does that one dot product per output, each with its
//! own horizontal sum, and its tiled VNNI path (`repack_x86`) only takes widths that are a
//! multiple of 256, which Whisper tiny's 384 is not. In `perf` of a beam-5
//! transcription, candle's `BlockQ8_0::vec_dot` was 30 % of the CPU time, and five rows cost
//! four times one.
//!
//! Here the weights are repacked once, at load, as llama.cpp's and candle's AVX-512 kernels do:
//! each 32-value block of 16 consecutive rows becomes 512 bytes in which every 4 bytes are 4
//! consecutive weights of one row (stored +128, as unsigned bytes), so that one `dpbusd` adds 4
//! products into each of 16 per-row sums, the activations broadcast 4 at a time. The +128 comes
//! back out as 128 × the sum of the block's activations, once per activation row. The weights and
//! the activations are quantized exactly as ggml's Q8_0 (candle's own `from_float`), so the
//! results are candle's up to the order of the float additions. Only where the CPU has AVX-512F
//! and VNNI; elsewhere the caller keeps candle's product.

use candle_core::quantized::k_quants::{BlockQ8_0, GgmlType};

/// Rows per tile: one 512-bit register of 32-bit sums.
const ROWS: usize = 16;
/// Activation rows that share each load of a tile.
const SHARE: usize = 4;

/// 32 weights of each of 16 rows, interleaved by 4, +128; and the 16 rows' scales.
#[repr(C, align(64))]
#[derive(Clone)]
struct Tile {
    qs: [u8; 32 * ROWS],
    d: [f32; ROWS],
}

/// ggml's Q8_0 block (`BlockQ8_0`, whose fields candle keeps private).
#[repr(C)]
struct Block {
    d: u16,
    qs: [i8; 32],
}
const _: () = assert!(std::mem::size_of::<Block>() == std::mem::size_of::<BlockQ8_0>());
const _: () = assert!(std::mem::align_of::<Block>() == std::mem::align_of::<BlockQ8_0>());

fn view(xs: &[BlockQ8_0]) -> &[Block] {
    // SAFETY: both are repr(C) with the same size and alignment (asserted above), and every bit
    // pattern is a valid block of either.
    unsafe { std::slice::from_raw_parts(xs.as_ptr() as *const Block, xs.len()) }
}

/// Whether this CPU has the instructions the kernel needs.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// An `n × k` matrix of Q8_0 weights, tiled for [`Q8Tiles::matmul`].
pub struct Q8Tiles {
    n: usize,
    k: usize,
    tiles: Vec<Tile>,
}

impl Q8Tiles {
    /// An `n × k` f32 matrix quantized to Q8_0 as candle would, read `CHUNK` rows at a time
    /// through `rows(range)` (so that no f32 copy of a whole large matrix is ever made); `None`
    /// where the kernel cannot run (no AVX-512 VNNI, or `k` not a multiple of 32).
    pub fn from_f32<E>(
        n: usize,
        k: usize,
        mut rows: impl FnMut(std::ops::Range<usize>) -> Result<Vec<f32>, E>,
    ) -> Result<Option<Self>, E> {
        const CHUNK: usize = 256;
        if !available() || !k.is_multiple_of(32) {
            return Ok(None);
        }
        let mut tiles = Self::empty(n, k);
        let mut blocks = vec![BlockQ8_0::zeros(); CHUNK * k / 32];
        for r0 in (0..n).step_by(CHUNK) {
            let r1 = n.min(r0 + CHUNK);
            let w = rows(r0..r1)?;
            assert_eq!(w.len(), (r1 - r0) * k, "rows {r0}..{r1} of width {k}");
            let blocks = &mut blocks[..(r1 - r0) * k / 32];
            BlockQ8_0::from_float(&w, blocks);
            tiles.fill(r0, blocks);
        }
        Ok(Some(tiles))
    }

    /// Q8_0 blocks as stored (`n` rows of `k / 32` blocks).
    pub fn from_blocks(blocks: &[BlockQ8_0], n: usize, k: usize) -> Self {
        assert_eq!(blocks.len() * 32, n * k, "{n} × {k} Q8_0 weights");
        let mut tiles = Self::empty(n, k);
        tiles.fill(0, blocks);
        tiles
    }

    fn empty(n: usize, k: usize) -> Self {
        let empty = Tile { qs: [128; 32 * ROWS], d: [0.0; ROWS] };
        Self { n, k, tiles: vec![empty; n.div_ceil(ROWS) * (k / 32)] }
    }

    /// Writes the blocks of rows `first..` into their tiles.
    fn fill(&mut self, first: usize, blocks: &[BlockQ8_0]) {
        let kb = self.k / 32;
        for (i, weights) in view(blocks).chunks_exact(kb).enumerate() {
            let (g, r) = ((first + i) / ROWS, (first + i) % ROWS);
            for (b, block) in weights.iter().enumerate() {
                let tile = &mut self.tiles[g * kb + b];
                tile.d[r] = half::f16::from_bits(block.d).to_f32();
                for (j, q) in block.qs.iter().enumerate() {
                    tile.qs[(j / 4) * 4 * ROWS + r * 4 + j % 4] = (*q as i16 + 128) as u8;
                }
            }
        }
    }

    pub fn dims(&self) -> (usize, usize) {
        (self.n, self.k)
    }

    /// `x · wᵀ` for the `rows × k` row-major `x`, as `rows × n`.
    pub fn matmul(&self, x: &[f32]) -> Vec<f32> {
        let (n, k, kb) = (self.n, self.k, self.k / 32);
        assert!(x.len().is_multiple_of(k), "{} values for rows of {k}", x.len());
        let rows = x.len() / k;
        let mut blocks = vec![BlockQ8_0::zeros(); rows * kb];
        BlockQ8_0::from_float(x, &mut blocks);
        let acts = Acts::new(view(&blocks), kb);
        let groups = n.div_ceil(ROWS);
        let mut out = vec![0f32; rows * groups * ROWS];
        let (at, stride) = (out.as_mut_ptr() as usize, groups * ROWS);
        candle_core::utils::barrier_pool().execute_chunked(groups, |range| {
            for g in range {
                for r0 in (0..rows).step_by(SHARE) {
                    // SAFETY: `available` held when the tiles were built; `out` is rows ×
                    // stride and this group alone writes its 16 columns of each row.
                    unsafe {
                        let dst = (at as *mut f32).add(r0 * stride + g * ROWS);
                        let tiles = &self.tiles[g * kb..(g + 1) * kb];
                        x86::group(tiles, &acts, r0, (rows - r0).min(SHARE), dst, stride);
                    }
                }
            }
        });
        if stride != n {
            out = out.chunks_exact(stride).flat_map(|r| r[..n].iter().copied()).collect();
        }
        out
    }
}

/// The activation rows quantized per 32 values, with each block's scale and 128 × its sum.
struct Acts {
    qs: Vec<i8>,
    d: Vec<f32>,
    offset: Vec<i32>,
    kb: usize,
}

impl Acts {
    fn new(blocks: &[Block], kb: usize) -> Self {
        let qs = blocks.iter().flat_map(|b| b.qs).collect();
        let d = blocks.iter().map(|b| half::f16::from_bits(b.d).to_f32()).collect();
        let offset = blocks.iter().map(|b| 128 * b.qs.iter().map(|&q| q as i32).sum::<i32>());
        Self { qs, d, offset: offset.collect(), kb }
    }
}

/// Off x86 there is no kernel, and [`available`] is false, so no tiles are ever built.
#[cfg(not(target_arch = "x86_64"))]
mod x86 {
    pub unsafe fn group(
        _: &[super::Tile],
        _: &super::Acts,
        _: usize,
        _: usize,
        _: *mut f32,
        _: usize,
    ) {
        unreachable!("the Q8_0 tile kernel is x86-only; check q8::available first")
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{Acts, Tile, SHARE};

    /// Activation rows `r0..r0 + count` (count ≤ SHARE) through one group of 16 weight rows,
    /// written at `dst`, a row's outputs `stride` floats apart.
    #[target_feature(enable = "avx512f,avx512vnni")]
    pub unsafe fn group(
        tiles: &[Tile],
        x: &Acts,
        r0: usize,
        count: usize,
        dst: *mut f32,
        stride: usize,
    ) {
        match count {
            4 => rows::<4>(tiles, x, r0, dst, stride),
            3 => rows::<3>(tiles, x, r0, dst, stride),
            2 => rows::<2>(tiles, x, r0, dst, stride),
            _ => rows::<1>(tiles, x, r0, dst, stride),
        }
    }

    #[inline(always)]
    unsafe fn rows<const R: usize>(
        tiles: &[Tile],
        x: &Acts,
        r0: usize,
        dst: *mut f32,
        stride: usize,
    ) {
        const { assert!(R <= SHARE) };
        let kb = x.kb;
        let mut acc = [_mm512_setzero_ps(); R];
        for (b, tile) in tiles.iter().enumerate() {
            let mut sums = [_mm512_setzero_si512(); R];
            for j in 0..8 {
                let w = _mm512_load_si512(tile.qs.as_ptr().add(64 * j) as *const _);
                for (r, sum) in sums.iter_mut().enumerate() {
                    let a = x.qs.as_ptr().add(((r0 + r) * kb + b) * 32 + 4 * j) as *const i32;
                    *sum = _mm512_dpbusd_epi32(*sum, w, _mm512_set1_epi32(a.read_unaligned()));
                }
            }
            let d = _mm512_load_ps(tile.d.as_ptr());
            for (r, (acc, sum)) in acc.iter_mut().zip(sums).enumerate() {
                let i = (r0 + r) * kb + b;
                let exact = _mm512_sub_epi32(sum, _mm512_set1_epi32(x.offset[i]));
                let scale = _mm512_mul_ps(d, _mm512_set1_ps(x.d[i]));
                *acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), scale, *acc);
            }
        }
        for (r, acc) in acc.into_iter().enumerate() {
            _mm512_storeu_ps(dst.add(r * stride), acc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| ((i * 7919 + seed * 104_729) % 997) as f32 / 498.0 - 1.0).collect()
    }

    #[test]
    fn tiles_multiply_as_candles_q8_0_product() {
        // 300 rows: two chunks of rows read, the last tile padded; a width that is no multiple of 256.
        let (n, k) = (300, 384);
        let w = values(n * k, 1);
        let chunk = |r: std::ops::Range<usize>| Ok::<_, ()>(w[r.start * k..r.end * k].to_vec());
        let Some(tiles) = Q8Tiles::from_f32(n, k, chunk).expect("rows") else {
            assert!(!available(), "only a CPU without VNNI goes without tiles");
            return;
        };
        let mut blocks = vec![BlockQ8_0::zeros(); n * k / 32];
        BlockQ8_0::from_float(&w, &mut blocks);
        let stored = Q8Tiles::from_blocks(&blocks, n, k);
        for rows in [1, 4, 5] {
            let x = values(rows * k, rows + 7);
            let mut want = vec![0f32; rows * n];
            candle_core::quantized::k_quants::matmul((rows, k, n), &x, &blocks, &mut want)
                .expect("candle's product");
            let got = tiles.matmul(&x);
            assert_eq!(got, stored.matmul(&x), "from f32 rows and from stored blocks");
            assert_eq!(got.len(), want.len());
            let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!(scale > 1.0, "a trivial product proves nothing");
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-5 * scale, "{rows} rows: {g} against candle's {w}");
            }
        }
    }
}
