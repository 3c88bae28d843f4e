// Package paramload writes trained parameter values back into a model: tensors from
// a .npz or .safetensors file (keys = initializer names) replace its initializers, names, shapes and types checked.
package paramload
