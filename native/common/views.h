// Typed-array and scalar accessors for the options objects the addon receives.
//
// The TypeScript side validates every argument before it reaches the addon; these checks are
// defence in depth so that a wrong call from plain JS throws a TypeError/RangeError naming the
// property instead of reading out of bounds or crashing the process. Both build systems compile
// with NAPI_CPP_EXCEPTIONS: these helpers `throw` a Napi::TypeError / Napi::RangeError, and
// node-addon-api's callback wrapper rethrows it as the JS exception when the binding returns.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace rewardkit {

/** A borrowed view of a typed array: data pointer, element count and the JS object that owns it. */
template <typename T>
struct View {
  T* data = nullptr;
  size_t length = 0;
  Napi::Value owner;  // the typed array (empty when the property was null)
  bool present() const { return !owner.IsEmpty(); }
};

inline const char* typedArrayName(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "a typed array";
  }
}

/** What a JS value is, for error messages. */
inline std::string describeValue(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) {
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    return std::string(typedArrayName(ta.TypedArrayType())) + "(" + std::to_string(ta.ElementLength()) + ")";
  }
  if (v.IsArray()) return "an Array";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsNumber()) return "a number";
  if (v.IsString()) return "a string";
  if (v.IsFunction()) return "a function";
  return "an object";
}

/** A double as JS would print it, near enough for messages (-1, 1.5, 1099511627776, NaN). */
inline std::string formatNumber(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  for (int precision = 1; precision <= 17; precision++) {  // the shortest form that reads back as d
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  return buf;
}

[[noreturn]] inline void throwType(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, "rewardkit native: " + message);
}

[[noreturn]] inline void throwRange(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, "rewardkit native: " + message);
}

template <typename T>
struct TypedArrayTraits;
template <>
struct TypedArrayTraits<float> {
  static constexpr napi_typedarray_type type = napi_float32_array;
  static constexpr const char* name = "Float32Array";
};
template <>
struct TypedArrayTraits<uint8_t> {
  static constexpr napi_typedarray_type type = napi_uint8_array;
  static constexpr const char* name = "Uint8Array";
};
template <>
struct TypedArrayTraits<uint32_t> {
  static constexpr napi_typedarray_type type = napi_uint32_array;
  static constexpr const char* name = "Uint32Array";
};
template <>
struct TypedArrayTraits<uint16_t> {
  static constexpr napi_typedarray_type type = napi_uint16_array;
  static constexpr const char* name = "Uint16Array";
};
template <>
struct TypedArrayTraits<int32_t> {
  static constexpr napi_typedarray_type type = napi_int32_array;
  static constexpr const char* name = "Int32Array";
};
template <>
struct TypedArrayTraits<double> {
  static constexpr napi_typedarray_type type = napi_float64_array;
  static constexpr const char* name = "Float64Array";
};

/** Whether v is a typed array of element type T (exactly: a Uint8ClampedArray is not a Uint8Array). */
template <typename T>
bool isTypedArrayOf(const Napi::Value& v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == TypedArrayTraits<T>::type;
}

/**
 * The view of a typed array value already known to be of type T. Arrays on a resizable ArrayBuffer
 * are refused: the work runs off the main thread, and a buffer shrunk meanwhile would leave the
 * kernel reading or writing freed pages. (Do not transfer/detach arrays while a call is pending.)
 */
template <typename T>
View<T> viewOf(const Napi::Value& v, const char* name) {
  Napi::TypedArrayOf<T> ta = v.As<Napi::TypedArrayOf<T>>();
  if (ta.ArrayBuffer().Get("resizable").ToBoolean().Value()) {
    throwType(v.Env(), std::string("expected '") + name + "' to be backed by a fixed-length ArrayBuffer, got a resizable one");
  }
  View<T> out;
  out.length = ta.ElementLength();
  out.data = out.length == 0 ? nullptr : ta.Data();
  out.owner = v;
  return out;
}

/** obj[name] as a typed array of T; with allowNull, null or undefined give an empty view. */
template <typename T>
View<T> getArray(const Napi::Object& obj, const char* name, bool allowNull = false) {
  Napi::Value v = obj.Get(name);
  if (allowNull && (v.IsNull() || v.IsUndefined())) return View<T>{};
  if (!isTypedArrayOf<T>(v)) {
    throwType(obj.Env(), std::string("expected '") + name + "' to be a " + TypedArrayTraits<T>::name +
                             (allowNull ? " or null" : "") + ", got " + describeValue(v));
  }
  return viewOf<T>(v, name);
}

/** obj[name] as a non-negative integer <= max (sizes, counts). */
inline uint64_t getSize(const Napi::Object& obj, const char* name, uint64_t max = (uint64_t{1} << 53) - 1) {
  Napi::Value v = obj.Get(name);
  if (!v.IsNumber()) throwType(obj.Env(), std::string("expected '") + name + "' to be a number, got " + describeValue(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != std::floor(d) || d > static_cast<double>(max)) {
    throwRange(obj.Env(), std::string("expected '") + name + "' to be an integer in [0, " + std::to_string(max) +
                              "], got " + formatNumber(d));
  }
  return static_cast<uint64_t>(d);
}

/** obj[name] as a number (any double, NaN included). */
inline double getNumber(const Napi::Object& obj, const char* name) {
  Napi::Value v = obj.Get(name);
  if (!v.IsNumber()) throwType(obj.Env(), std::string("expected '") + name + "' to be a number, got " + describeValue(v));
  return v.As<Napi::Number>().DoubleValue();
}

/** obj[name] as a boolean (strictly: true or false). */
inline bool getBool(const Napi::Object& obj, const char* name) {
  Napi::Value v = obj.Get(name);
  if (!v.IsBoolean()) throwType(obj.Env(), std::string("expected '") + name + "' to be a boolean, got " + describeValue(v));
  return v.As<Napi::Boolean>().Value();
}

}  // namespace rewardkit
