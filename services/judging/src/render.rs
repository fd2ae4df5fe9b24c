//! Rendering the critic prompt for a pairwise task.

/// The released LLaVA-Critic pairwise prompt (METHOD.md section 1), with the image token first.
pub fn pairwise(_template: &str, question: &str, first: &str, second: &str) -> String {
    format!(
        "<image>\nGiven an image and a corresponding question, please serve as an unbiased and fair judge to evaluate \
         the quality of the answers provided by a Large Multimodal Model (LMM). Determine which answer is better and \
         explain your reasoning with specific details. Your task is provided as follows:\nQuestion: [{question}]\nThe \
         first response: [{first}]\nThe second response: [{second}]\nASSISTANT:\n"
    )
}
