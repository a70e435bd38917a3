/**
 * protobufjs, used the documented way (reflection over a schema, `Type.encode(...).finish()` and
 * `Type.decode`), as an independent reference for our Event codec. The schema is the subset of
 * TensorFlow's event.proto, summary.proto, tensor.proto and tensor_shape.proto that TensorBoard's
 * scalar, histogram and text dashboards read, with the field numbers and types of those files.
 */
import protobuf from 'protobufjs';

/** `packed` is how the repeated numeric fields are written: packed (proto3's default) or one per field. */
function eventSchema(packed: boolean): protobuf.Root {
  const repeatedDouble = (id: number): protobuf.IField & { rule: string } => ({
    rule: 'repeated',
    type: 'double',
    id,
    options: { packed },
  });
  return protobuf.Root.fromJSON({
    nested: {
      Event: {
        fields: {
          wall_time: { type: 'double', id: 1 },
          step: { type: 'int64', id: 2 },
          file_version: { type: 'string', id: 3 },
          summary: { type: 'Summary', id: 5 },
        },
      },
      Summary: {
        fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
        nested: {
          Value: {
            fields: {
              tag: { type: 'string', id: 1 },
              simple_value: { type: 'float', id: 2 },
              histo: { type: 'HistogramProto', id: 5 },
              tensor: { type: 'TensorProto', id: 8 },
              metadata: { type: 'SummaryMetadata', id: 9 },
            },
          },
        },
      },
      HistogramProto: {
        fields: {
          min: { type: 'double', id: 1 },
          max: { type: 'double', id: 2 },
          num: { type: 'double', id: 3 },
          sum: { type: 'double', id: 4 },
          sum_squares: { type: 'double', id: 5 },
          bucket_limit: repeatedDouble(6),
          bucket: repeatedDouble(7),
        },
      },
      TensorProto: {
        fields: {
          dtype: { type: 'int32', id: 1 },
          tensor_shape: { type: 'TensorShapeProto', id: 2 },
          tensor_content: { type: 'bytes', id: 4 },
          float_val: { rule: 'repeated', type: 'float', id: 5, options: { packed } },
          double_val: repeatedDouble(6),
          string_val: { rule: 'repeated', type: 'bytes', id: 8 },
        },
      },
      TensorShapeProto: {
        fields: { dim: { rule: 'repeated', type: 'Dim', id: 2 } },
        nested: { Dim: { fields: { size: { type: 'int64', id: 1 } } } },
      },
      SummaryMetadata: {
        fields: {
          plugin_data: { type: 'PluginData', id: 1 },
          data_class: { type: 'int32', id: 4 },
        },
        nested: {
          PluginData: {
            fields: { plugin_name: { type: 'string', id: 1 }, content: { type: 'bytes', id: 2 } },
          },
        },
      },
    },
  });
}

export const PACKED_EVENT = eventSchema(true).lookupType('Event');
export const UNPACKED_EVENT = eventSchema(false).lookupType('Event');

/** An int64 as protobufjs takes it exactly for an int64 field: two's complement halves. */
export function int64(value: number | bigint): { low: number; high: number; unsigned: boolean } {
  const bits = BigInt.asUintN(64, BigInt(value));
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: false };
}

/** Encodes a message object (snake_case fields, as in the .proto files) with protobufjs. */
export function referenceEncode(message: object, type: protobuf.Type = PACKED_EVENT): Buffer {
  const error = type.verify(message);
  if (error !== null) throw new Error(`reference message does not fit the schema: ${error}`);
  return Buffer.from(type.encode(message).finish());
}
