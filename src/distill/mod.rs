//! Distillation: candidate insights per chunk from the LLM and from model-free sentence
//! scoring, then the grounding checks that decide which candidates may reach the brief.

pub mod verify;
