package detect

import (
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// BlazeFace is fully convolutional, yet its ONNX graph names the 256×256
// input size in a few places: the input's shape, two constant tensors that
// pad channels beside a max-pool (their spatial size is the feature map's),
// and the four reshapes that flatten the 16×16 and 8×8 anchor grids. A
// 16:9 frame letterboxed into 256×256 is 44 % padding the network convolves
// for little; the same weights on a 256×192 input see the same picture at
// the same scale, with the black border the network needs (bfBorder). reshapeBlazeFace rewrites those places, and only those,
// for an input of h×w pixels (multiples of 32, at most 256), and refuses a
// graph that does not name them exactly as this model does.
//
// The rewrite works on the protobuf wire format (onnx.proto3's field
// numbers, below) and copies every other field byte for byte.

// onnx.proto3 field numbers used here.
const (
	modelGraph       = 7  // ModelProto.graph
	graphInitializer = 5  // GraphProto.initializer
	graphInput       = 11 // GraphProto.input
	graphOutput      = 12 // GraphProto.output
	graphValueInfo   = 13 // GraphProto.value_info: inferred shapes, dropped
	tensorDims       = 1  // TensorProto.dims
	tensorDataType   = 2  // TensorProto.data_type
	tensorInt64Data  = 7  // TensorProto.int64_data
	tensorRawData    = 9  // TensorProto.raw_data
	valueType        = 2  // ValueInfoProto.type
	typeTensor       = 1  // TypeProto.tensor_type
	tensorTypeShape  = 2  // TypeProto.Tensor.shape
	shapeDim         = 1  // TensorShapeProto.dim
	dimValue         = 1  // TensorShapeProto.Dimension.dim_value
	onnxInt64        = 7  // TensorProto.DataType INT64
)

// anchorCounts is how many anchors an h×w input has on the 16-pixel grid (2
// a cell) and on the 32-pixel grid (6 a cell).
func anchorCounts(h, w int) (n16, n32 int) { return h / 16 * (w / 16) * 2, h / 32 * (w / 32) * 6 }

// ErrModelLayout reports a graph that does not name the input size where
// this model does.
var ErrModelLayout = errors.New("face model: graph layout is not BlazeFace-256's")

func reshapeBlazeFace(model []byte, h, w int) ([]byte, error) {
	if h%32 != 0 || w%32 != 0 || h < 32 || w < 32 || h > bfSize || w > bfSize {
		return nil, fmt.Errorf("face model: input %d×%d is not in multiples of 32 up to %d", w, h, bfSize)
	}
	n16, n32 := anchorCounts(bfSize, bfSize)
	m16, m32 := anchorCounts(h, w)
	var inputs, outputs, pads, flattens int
	// shape maps one shape the graph names to the h×w input's.
	shape := func(d []int64, initializer bool) []int64 {
		switch {
		case !initializer && len(d) == 4 && d[0] == 1 && d[1] == bfSize && d[2] == bfSize && d[3] == 3:
			inputs++
			return []int64{1, int64(h), int64(w), 3}
		case !initializer && len(d) == 3 && d[0] == 1 && (d[1] == int64(n16) || d[1] == int64(n32)):
			outputs++
		case initializer && len(d) == 4 && d[0] == 1 && d[2] == d[3] && d[2] > 0 && d[2] < bfSize && bfSize%d[2] == 0:
			pads++ // [1, C, 256/k, 256/k]: a channel pad at stride k
			k := bfSize / d[2]
			return []int64{1, d[1], int64(h) / k, int64(w) / k}
		case initializer && len(d) == 3 && d[0] == 1 && (d[1] == int64(n16) || d[1] == int64(n32)):
			flattens++
		default:
			return d
		}
		n := int64(m16)
		if d[1] == int64(n32) {
			n = int64(m32)
		}
		return []int64{1, n, d[2]}
	}
	out, err := rewrite(model, func(num protowire.Number, v []byte) ([]byte, bool, error) {
		if num != modelGraph {
			return v, true, nil
		}
		g, err := rewrite(v, func(num protowire.Number, v []byte) ([]byte, bool, error) {
			switch num {
			case graphValueInfo:
				return nil, false, nil // shapes of the 256×256 graph; ONNX Runtime infers its own
			case graphInput, graphOutput:
				v, err := valueInfoShape(v, func(d []int64) []int64 { return shape(d, false) })
				return v, true, err
			case graphInitializer:
				v, err := int64Tensor(v, func(d []int64) []int64 { return shape(d, true) })
				return v, true, err
			}
			return v, true, nil
		})
		return g, true, err
	})
	if err != nil {
		return nil, fmt.Errorf("face model: %w", err)
	}
	if inputs != 1 || outputs != 4 || pads != 2 || flattens != 4 {
		return nil, fmt.Errorf("%w: %d inputs, %d outputs, %d channel pads, %d flattens (want 1, 4, 2, 4)", ErrModelLayout, inputs, outputs, pads, flattens)
	}
	return out, nil
}

// rewrite copies message b, passing each length-delimited field's content
// through fn (which may replace or drop it); other fields are copied as they
// are.
func rewrite(b []byte, fn func(num protowire.Number, v []byte) ([]byte, bool, error)) ([]byte, error) {
	out := make([]byte, 0, len(b))
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if typ != protowire.BytesType {
			out = append(protowire.AppendTag(out, num, typ), v...)
			return nil
		}
		content, _ := protowire.ConsumeBytes(v)
		content, keep, err := fn(num, content)
		if keep {
			out = protowire.AppendBytes(protowire.AppendTag(out, num, protowire.BytesType), content)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachField calls fn with each field of message b: its number, wire type
// and encoded value (a length-delimited one with its length).
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return protowire.ParseError(m)
		}
		if err := fn(num, typ, b[n:n+m]); err != nil {
			return err
		}
		b = b[n+m:]
	}
	return nil
}

// valueInfoShape passes a ValueInfoProto's fixed tensor shape through fn.
func valueInfoShape(b []byte, fn func([]int64) []int64) ([]byte, error) {
	return rewrite(b, func(num protowire.Number, v []byte) ([]byte, bool, error) {
		if num != valueType {
			return v, true, nil
		}
		v, err := rewrite(v, func(num protowire.Number, v []byte) ([]byte, bool, error) {
			if num != typeTensor {
				return v, true, nil
			}
			v, err := rewrite(v, func(num protowire.Number, v []byte) ([]byte, bool, error) {
				if num != tensorTypeShape {
					return v, true, nil
				}
				v, err := shapeProto(v, fn)
				return v, true, err
			})
			return v, true, err
		})
		return v, true, err
	})
}

// shapeProto passes a TensorShapeProto whose dimensions are all fixed
// through fn; one with a symbolic dimension is left as it is.
func shapeProto(b []byte, fn func([]int64) []int64) ([]byte, error) {
	var dims []int64
	_, err := rewrite(b, func(num protowire.Number, v []byte) ([]byte, bool, error) {
		if num != shapeDim {
			return v, true, nil
		}
		value := int64(-1) // symbolic until a dim_value is read
		err := eachField(v, func(num protowire.Number, typ protowire.Type, x []byte) error {
			if num == dimValue && typ == protowire.VarintType {
				u, _ := protowire.ConsumeVarint(x)
				value = int64(u)
			}
			return nil
		})
		dims = append(dims, value)
		return nil, false, err
	})
	if err != nil {
		return nil, err
	}
	for _, d := range dims {
		if d < 0 {
			return b, nil
		}
	}
	var out []byte
	for _, d := range fn(dims) {
		dim := protowire.AppendVarint(protowire.AppendTag(nil, dimValue, protowire.VarintType), uint64(d))
		out = protowire.AppendBytes(protowire.AppendTag(out, shapeDim, protowire.BytesType), dim)
	}
	return out, nil
}

// int64Tensor passes the values of a 1-D INT64 TensorProto of 3 or 4
// elements (a shape constant) through fn; any other tensor is left as it is.
func int64Tensor(b []byte, fn func([]int64) []int64) ([]byte, error) {
	var dims, vals []int64
	var dataType uint64
	raw, foreign := false, false
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == tensorDataType && typ == protowire.VarintType:
			dataType, _ = protowire.ConsumeVarint(v)
		case num == tensorDims:
			dims = appendInt64s(dims, typ, v)
		case num == tensorInt64Data && typ == protowire.BytesType:
			vals = appendInt64s(vals, typ, v)
		case num == tensorInt64Data:
			foreign = true // unpacked values: not how a shape constant is written
		case num == tensorRawData && typ == protowire.BytesType:
			data, _ := protowire.ConsumeBytes(v)
			foreign = foreign || len(data)%8 != 0
			for i := 0; i+8 <= len(data); i += 8 {
				vals = append(vals, int64(binary.LittleEndian.Uint64(data[i:])))
			}
			raw = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if foreign {
		return b, nil
	}
	if dataType != onnxInt64 || len(dims) != 1 || dims[0] != int64(len(vals)) || (len(vals) != 3 && len(vals) != 4) {
		return b, nil
	}
	next := fn(vals)
	if len(next) != len(vals) {
		return nil, errors.New("shape constant changed rank")
	}
	return rewrite(b, func(num protowire.Number, v []byte) ([]byte, bool, error) {
		switch {
		case raw && num == tensorRawData:
			out := make([]byte, 0, 8*len(next))
			for _, x := range next {
				out = binary.LittleEndian.AppendUint64(out, uint64(x))
			}
			return out, true, nil
		case !raw && num == tensorInt64Data:
			var out []byte
			for _, x := range next {
				out = protowire.AppendVarint(out, uint64(x))
			}
			return out, true, nil
		}
		return v, true, nil
	})
}

// appendInt64s reads a repeated int64 field, packed or not.
func appendInt64s(dst []int64, typ protowire.Type, v []byte) []int64 {
	if typ == protowire.VarintType {
		x, _ := protowire.ConsumeVarint(v)
		return append(dst, int64(x))
	}
	if typ != protowire.BytesType {
		return dst
	}
	packed, _ := protowire.ConsumeBytes(v)
	for len(packed) > 0 {
		x, n := protowire.ConsumeVarint(packed)
		if n < 0 {
			return dst
		}
		dst, packed = append(dst, int64(x)), packed[n:]
	}
	return dst
}
