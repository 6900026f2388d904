//! Where a model runs. Shared by every stage that loads weights, so `--device` means the same
//! thing to all of them.

/// `cpu`, `cuda`, `cuda:N` or `metal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceSpec {
    Cpu,
    Cuda(usize),
    Metal,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DeviceError(pub String);

impl std::str::FromStr for DeviceSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            "metal" => Ok(DeviceSpec::Metal),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(DeviceSpec::Cuda)
                .ok_or_else(|| format!("unknown device '{s}' (use cpu, cuda, cuda:N or metal)")),
        }
    }
}

impl DeviceSpec {
    pub fn candle(self) -> Result<candle_core::Device, DeviceError> {
        match self {
            DeviceSpec::Cpu => Ok(candle_core::Device::Cpu),
            DeviceSpec::Cuda(n) => candle_core::Device::new_cuda(n).map_err(|e| {
                DeviceError(format!(
                    "cannot use cuda:{n}: {e} (was podbrief built with `--features cuda`?)"
                ))
            }),
            DeviceSpec::Metal => candle_core::Device::new_metal(0)
                .map_err(|e| DeviceError(format!("cannot use metal: {e}"))),
        }
    }
}

/// Threads when the user names none: every core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
