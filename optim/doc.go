// Package optim turns a model with a loss and its gradients into a training-step
// model: one optimizer update (torch.optim.SGD, AdamW, …) per trainable parameter,
// in default-domain ONNX ops, plus the init model holding the optimizer's starting state.
//
// Each optimizer is one file that registers itself (see Register); Apply does the
// graph surgery the step-model contract of DESIGN.md describes: parameters become
// plain graph inputs followed by their state inputs, then `lr` and `step`, and the
// outputs are `loss` and `X_next` for every state input X except `lr`.
package optim
