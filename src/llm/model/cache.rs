//! Keys and values of the sequences a model holds at once. Slot 0 is the one sequence of
//! ordinary generation, sized for the whole context; further slots, sized for one short chat
//! each, let several replies be generated together (`Model::step`): a token-by-token pass
//! streams every weight of the model from memory once, whether it multiplies one row or a few,
//! so a few sequences a pass cost little more than one.

use candle_core::{DType, Device, Tensor};

/// Keys and values of one layer for a slot's whole capacity, allocated on first use so that
/// rewinding is just moving `pos`.
#[derive(Default)]
pub(super) struct KvCache {
    k: Option<Tensor>,
    v: Option<Tensor>,
}

/// One sequence: its caches, layer by layer, and how many positions they hold.
pub(super) struct Slot {
    pub layers: Vec<KvCache>,
    pub pos: usize,
    /// Positions the caches are allocated for.
    pub cap: usize,
}

impl Slot {
    pub fn new(n_layer: usize, cap: usize) -> Slot {
        Slot { layers: (0..n_layer).map(|_| KvCache::default()).collect(), pos: 0, cap }
    }
}

/// The new rows of one slot within a forward pass: rows `start..start + len` of the pass's
/// input, at positions `pos..pos + len` of the slot, with their rotary tables and causal mask.
pub(super) struct Segment {
    pub slot: usize,
    pub start: usize,
    pub len: usize,
    pub pos: usize,
    pub cap: usize,
    pub cos: Tensor,
    pub sin: Tensor,
    pub mask: Option<Tensor>,
}

impl KvCache {
    /// Writes the new keys/values at `pos` and returns views of everything up to them.
    pub fn append(
        &mut self,
        k: &Tensor,
        v: &Tensor,
        pos: usize,
        cap: usize,
    ) -> candle_core::Result<(Tensor, Tensor)> {
        let s = k.dim(2)?;
        let alloc = |t: &Tensor| {
            let (b, h, _, d) = t.dims4()?;
            Tensor::zeros((b, h, cap, d), stored_dtype(t), t.device())
        };
        if self.k.is_none() {
            self.k = Some(alloc(k)?);
            self.v = Some(alloc(v)?);
        }
        let (Some(kc), Some(vc)) = (&self.k, &self.v) else {
            candle_core::bail!("kv cache not allocated");
        };
        kc.slice_set(&k.to_dtype(kc.dtype())?, 2, pos)?;
        vc.slice_set(&v.to_dtype(vc.dtype())?, 2, pos)?;
        Ok((kc.narrow(2, 0, pos + s)?, vc.narrow(2, 0, pos + s)?))
    }
}

/// On the CPU keys and values are kept in f16, as llama.cpp keeps them: half the memory (117 MB
/// of the 1.5B model's 4,096-token context) and half the bytes each generated token reads.
fn stored_dtype(t: &Tensor) -> DType {
    if t.device().is_cpu() && t.dtype() == DType::F32 {
        DType::F16
    } else {
        t.dtype()
    }
}

/// Additive mask for a chunk of `s` new tokens after `pos` cached ones: token i sees the cache
/// and new tokens up to itself.
pub(super) fn causal_mask(s: usize, pos: usize, device: &Device) -> candle_core::Result<Tensor> {
    let kv = pos + s;
    let data: Vec<f32> = (0..s)
        .flat_map(|i| (0..kv).map(move |j| if j > pos + i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(data, (s, kv), device)
}
