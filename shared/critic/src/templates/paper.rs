//! The two pairwise templates printed in the LLaVA-Critic paper's Table 7. The wording is the paper's;
//! line breaks (the paper typesets `\n` between the fields) and the `ASSISTANT:\n` ending follow the
//! released prompts. Template 1 talks about a "ground truth answer" but, as printed, has no slot for
//! one; it is kept as printed (see `pool/ref-five-criteria` for criticloop's version with a reference).
//! The emphasis around "Helpfulness" and "Ethical Considerations" is typesetting and is dropped.

use super::{Source, Template};
use crate::parse::{Mode, OutputFormat};

pub(super) static PAPER: [Template; 2] = [
    Template {
        id: "paper/table7-criteria",
        source: Source::Paper,
        mode: Mode::Pairwise,
        format: OutputFormat::PairwiseLetters,
        text: "You will be given an image and a corresponding question. Your task is to evaluate the responses provided, select the better response, and give reasons for your choice. Consider the following factors when making your decision.\n\
1. Accuracy in Object Description: Evaluate the accuracy of the descriptions concerning the objects mentioned in the ground truth answer. Responses should minimize the mention of objects not present in the ground truth answer, and inaccuracies in the description of existing objects.\n\
2. Accuracy in Depicting Relationships: Consider how accurately the relationships between objects are described compared to the ground truth answer. Rank higher the responses that least misrepresent these relationships.\n\
3. Accuracy in Describing Attributes: Assess the accuracy in the depiction of objects' attributes compared to the ground truth answer. Responses should avoid inaccuracies in describing the characteristics of the objects present.\n\
4. Helpfulness: Consider whether the generated text provides valuable insights, additional context, or relevant information that contributes positively to the user's comprehension of the image. Assess whether the language model accurately follows any specific instructions or guidelines provided in the prompt. Evaluate the overall contribution of the response to the user experience.\n\
5. Ethical Considerations: Identify if the model gives appropriate warnings or avoids providing advice on sensitive topics, such as medical images. Ensure the model refrains from stating identification information in the image that could compromise personal privacy. Evaluate the language model's responses for fairness in treating individuals and communities, avoiding biases. Assess for harmfulness, ensuring the avoidance of content that may potentially incite violence, be classified as NSFW (Not Safe For Work), or involve other unmentioned ethical considerations. Consider any content that could be deemed offensive, inappropriate, or ethically problematic beyond the explicitly listed criteria.\n\
The question and responses are given as follows:\n\
Question: [{question}]\n\
Response A: [{response1}]\n\
Response B: [{response2}]\n\
ASSISTANT:\n",
    },
    Template {
        id: "paper/table7-expert",
        source: Source::Paper,
        mode: Mode::Pairwise,
        format: OutputFormat::CriticPairwise,
        text: "As an expert, you are asked to evaluate two responses to the given image-based question. Provide a professional assessment of responses and decide which one is better. Support your decision with detailed reasons. Here are the question and responses:\n\
Question: [{question}]\n\
The first response: [{response1}]\n\
The second response: [{response2}]\n\
ASSISTANT:\n",
    },
];
