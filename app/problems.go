// Package app holds gradlab's go-app components: the shell, the home page and
// one page per homework problem. It imports go-app as goapp because this
// package is itself called app.
package app

import "fmt"

// Problem is one homework problem as the app presents it. Path is the route
// of its page and stays stable: links, the service worker's pre-cache list and
// the browser tests all use it.
type Problem struct {
	Number int
	Path   string
	Title  string
	// Short is the label in the navigation bar, where space is tight.
	Short string
	// Summary is the one line shown in lists.
	Summary string
	// Statement says what the homework asks, in a few sentences.
	Statement string
	// Computes says what gradlab calculates for the problem once its page is
	// built; placeholder pages show it as a plan, not as a result.
	Computes string
}

// Problems lists homework problems 1 to 8 in the homework's order.
var Problems = []Problem{
	{
		Number:    1,
		Path:      "/p1",
		Title:     "Depthwise separable convolutions",
		Short:     "Depthwise conv",
		Summary:   "Count the parameters of a 3x3 convolution against depthwise plus pointwise.",
		Statement: "A three-channel 224x224 image goes through a 3x3 convolution with 4 output channels. How many learnable weights does it have (biases ignored)? And how many does a depthwise separable convolution have: a 3x3 depthwise convolution per channel followed by a 1x1 pointwise convolution to 4 channels?",
		Computes:  "Parameter counts for both layers from editable channel and kernel sizes, and the depthwise and pointwise convolutions run as layers on the same input.",
	},
	{
		Number:    2,
		Path:      "/p2",
		Title:     "Dropout as Tikhonov regularisation",
		Short:     "Dropout = ridge",
		Summary:   "Show that dropout on linear regression is ridge regression with a column-norm penalty.",
		Statement: "Keeping each input feature with probability p turns the expected least-squares loss into ‖y − pXw‖² + p(1−p)‖Γw‖² with Γ the diagonal of column norms of X. Then: how to rescale the dropout weights, the change of variables X̃ = XΓ⁻¹ that makes it classical ridge regression, and what equal column norms suggest about batch normalisation. (In this problem p is the probability of keeping a feature, as in the homework's equations; everywhere else in gradlab p is the probability of dropping one.)",
		Computes:  "The expectation over dropout masks next to the closed form (4) on a small editable X, the rescaled solution, and the column norms of X̃.",
	},
	{
		Number:    3,
		Path:      "/p3",
		Title:     "Multiplicative Gaussian noise",
		Short:     "Gaussian noise",
		Summary:   "Find (A) and (B) when features are multiplied by N(μ, σ²) noise.",
		Statement: "Multiply every input feature by independent N(μ, σ²) noise instead of a coin toss. The expected loss takes the form ‖y − (A)Xw‖² + (B)‖Γw‖² with Γ = diag(XᵀX)^(1/2). Choose (A) and (B) and show the work.",
		Computes:  "A Monte Carlo estimate of the expected loss against each candidate (A), (B) pair for editable μ, σ and data.",
	},
	{
		Number:    4,
		Path:      "/p4",
		Title:     "Distributed training",
		Short:     "Distributed",
		Summary:   "Messages and message sizes for all-to-all, parameter server and ring all-reduce.",
		Statement: "With n workers and p parameters (p divisible by n), fill in the total number of messages and the size of each message for all-to-all communication, a parameter server and ring all-reduce.",
		Computes:  "The message table for chosen n and p, and a step-by-step simulation of ring all-reduce that counts the messages it sends.",
	},
	{
		Number:    5,
		Path:      "/p5",
		Title:     "Batchnorm, dropout and convolutions",
		Short:     "Layers & CNN",
		Summary:   "The layer library with gradient checks, then training a CNN on the GPU.",
		Statement: "Implement forward and backward passes of affine, ReLU, batchnorm (graph and closed-form backward), dropout, convolution, max-pool and spatial batchnorm, check them numerically, draw the batchnorm computational graph, then train a CNN with batchnorm and dropout on a GPU and design your own.",
		Computes:  "Every layer's gradient check on the CPU (float64) and on this browser's GPU (WebGPU), with relative errors against the course thresholds, and CNN training with live loss and accuracy curves.",
	},
	{
		Number:    6,
		Path:      "/p6",
		Title:     "Understanding dropout",
		Short:     "Dropout notebook",
		Summary:   "The dropout notebook: a two-weight regression with and without dropout.",
		Statement: "One example x = [10, 1] with target 11: least squares and gradient descent without dropout, then with dropout (p = 0.5, batch 1 and batch 1024), the size of w1 against w2, a sweep over the dropout rate with its jump at p = 0, SGD against Adam, and dropout on an image classifier with a cheating feature.",
		Computes:  "The closed-form and gradient-descent weights, the loss curves, the dropout-rate sweep, and the cheating-feature experiment.",
	},
	{
		Number:    7,
		Path:      "/p7",
		Title:     "Directed and undirected graphs",
		Short:     "Graphs",
		Summary:   "Adjacency, degree and Laplacian matrices, normalised and not.",
		Statement: "Write the adjacency, degree, normalised adjacency (AD⁻¹ and D^(−1/2) A D^(−1/2)) and Laplacian matrices of an undirected graph, show that the symmetric normalised Laplacian equals D^(−1/2) L D^(−1/2), compute A² and A³, then the in- and out-degree matrices and normalised Laplacians of a directed road network with flow conservation at each intersection.",
		Computes:  "Every matrix for an example graph you can edit, A² and A³ as walk counts, and a numerical check of equation (14).",
	},
	{
		Number:    8,
		Path:      "/p8",
		Title:     "Homework process",
		Short:     "Process",
		Summary:   "Sources, collaborators and hours, kept in this browser.",
		Statement: "Say which sources you used, who you worked with, and roughly how many hours the homework took.",
		Computes:  "Nothing: a notes form saved only in this browser.",
	},
}

// ProblemByNumber returns problem n (1-based) or an error for a number the
// homework does not have.
func ProblemByNumber(n int) (Problem, error) {
	if n < 1 || n > len(Problems) {
		return Problem{}, fmt.Errorf("app: no homework problem %d (problems are 1 to %d)", n, len(Problems))
	}
	return Problems[n-1], nil
}
