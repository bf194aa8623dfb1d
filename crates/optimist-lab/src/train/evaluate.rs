//! A network's loss and accuracy on a data set.

use crate::data::mnist::Dataset;
use crate::network::{Mlp, NetworkError, SoftmaxCrossEntropy};

/// A network's mean loss and accuracy on a set of images.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// The mean loss (the book's cross-entropy).
    pub loss: f64,
    /// The fraction of images whose highest score is their label.
    pub accuracy: f64,
}

/// The mean loss and accuracy of `net` on every image of `data`, in chunks.
pub fn evaluate(net: &mut Mlp<f32>, data: &Dataset) -> Result<Evaluation, NetworkError> {
    const CHUNK: usize = 1000;
    let classes = net.classes();
    let (mut x, mut t, mut probs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut total_loss, mut correct) = (0.0f64, 0usize);
    let all: Vec<usize> = (0..data.len()).collect();
    for chunk in all.chunks(CHUNK) {
        data.gather(chunk, &mut x, &mut t);
        let scores = net.forward(&x)?;
        probs.resize(scores.len(), 0.0);
        let loss = SoftmaxCrossEntropy::forward(scores, &t, classes, &mut probs);
        total_loss += f64::from(loss) * chunk.len() as f64;
        for (row, &label) in scores.chunks_exact(classes).zip(&t) {
            // The first of equal maxima, as numpy's argmax.
            let best = row
                .iter()
                .enumerate()
                .fold(0, |b, (j, &v)| if v > row[b] { j } else { b });
            correct += usize::from(best == usize::from(label));
        }
    }
    let n = data.len().max(1) as f64;
    Ok(Evaluation {
        loss: total_loss / n,
        accuracy: correct as f64 / n,
    })
}
