package autodiff

import (
	"google.golang.org/protobuf/proto"

	"github.com/onnxloss/onnxloss/onnxpb"
)

func cloneModel(m *onnxpb.ModelProto) *onnxpb.ModelProto { return proto.Clone(m).(*onnxpb.ModelProto) }
