// OpArgs, the generic async worker and the op table (native/common/op.h).
#include "common/op.h"

#include <exception>

namespace rewardkit {

class OpWorker : public Napi::AsyncWorker {
 public:
  OpWorker(Napi::Env env, const std::string& op)
      : Napi::AsyncWorker(env, ("rewardkit:" + op).c_str()), op_(op), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() const { return deferred_.Promise(); }
  void hold(const Napi::Value& v) { refs_.push_back(Napi::Persistent(v.As<Napi::Object>())); }
  std::vector<uint32_t>& copy() {
    copies_.push_back(std::make_unique<std::vector<uint32_t>>());
    return *copies_.back();
  }

  Work work;

  void Execute() override {
    try {
      work(outputs_);
    } catch (const std::exception& e) {
      SetError("rewardkit native: " + op_ + " failed: " + e.what());
    }
  }
  void OnOK() override {
    Napi::Object result = Napi::Object::New(Env());
    for (const auto& kv : outputs_) result.Set(kv.first, Napi::Number::New(Env(), kv.second));
    deferred_.Resolve(result);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::string op_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> refs_;
  std::vector<std::unique_ptr<std::vector<uint32_t>>> copies_;
  Outputs outputs_;
};

OpArgs::OpArgs(const Napi::CallbackInfo& info, const char* op) : env_(info.Env()), op_(op), worker_(nullptr) {
  if (info.Length() < 1 || !info[0].IsObject() || info[0].IsTypedArray() || info[0].IsArray()) {
    throwType(env_, op_ + "(args) expects an options object, got " + (info.Length() < 1 ? "nothing" : describeValue(info[0])));
  }
  obj_ = info[0].As<Napi::Object>();
  worker_ = new OpWorker(env_, op_);
}

OpArgs::~OpArgs() { delete worker_; }

void OpArgs::range(const std::string& message) const { throwRange(env_, op_ + ": " + message); }

uint64_t OpArgs::size(const char* name, uint64_t max) { return getSize(obj_, name, max); }
double OpArgs::number(const char* name) { return getNumber(obj_, name); }
bool OpArgs::flag(const char* name) { return getBool(obj_, name); }
int OpArgs::choice(const char* name, int count) { return static_cast<int>(getSize(obj_, name, static_cast<uint64_t>(count - 1))); }

void OpArgs::hold(const Napi::Value& v) {
  if (!v.IsEmpty()) worker_->hold(v);
}

const uint32_t* OpArgs::indices(const char* name, uint64_t length, uint64_t bound) {
  View<uint32_t> v = getArray<uint32_t>(obj_, name);
  if (v.length != length) range(std::string("expected '") + name + "' of length " + std::to_string(length) + ", got " + std::to_string(v.length));
  std::vector<uint32_t>& c = worker_->copy();
  c.assign(v.data, v.data + v.length);
  bytes_ += length * sizeof(uint32_t);
  for (uint64_t i = 0; i < length; i++) {
    if (c[i] >= bound) range(std::string("expected ") + name + "[" + std::to_string(i) + "] < " + std::to_string(bound) + ", got " + std::to_string(c[i]));
  }
  return c.data();
}

const uint32_t* OpArgs::offsets(const char* name, uint64_t rows, uint64_t tokens) {
  const uint32_t* off = indices(name, rows + 1, kMaxU32 + 1);
  if (off[0] != 0) range(std::string("expected ") + name + "[0] = 0, got " + std::to_string(off[0]));
  for (uint64_t i = 0; i < rows; i++) {
    if (off[i] > off[i + 1]) range(std::string("expected '") + name + "' non-decreasing, got " + name + "[" + std::to_string(i) + "] > " + name + "[" + std::to_string(i + 1) + "]");
  }
  if (off[rows] != tokens) range(std::string("expected ") + name + "[rows] = tokens = " + std::to_string(tokens) + ", got " + std::to_string(off[rows]));
  return off;
}

Napi::Value settledPromise(Napi::Env env, const Outputs& outputs) {
  Napi::Promise::Deferred done = Napi::Promise::Deferred::New(env);
  Napi::Object result = Napi::Object::New(env);
  for (const auto& kv : outputs) result.Set(kv.first, Napi::Number::New(env, kv.second));
  done.Resolve(result);
  return done.Promise();
}

Napi::Value OpArgs::queue(Work work) {
  if (bytes_ <= kInlineBytes) {  // the arrays stay referenced: ~OpArgs deletes the worker holding them
    Outputs outputs;
    try {
      work(outputs);
    } catch (const std::exception& e) {
      Napi::Promise::Deferred failed = Napi::Promise::Deferred::New(env_);
      failed.Reject(Napi::Error::New(env_, "rewardkit native: " + op_ + " failed: " + e.what()).Value());
      return failed.Promise();
    }
    return settledPromise(env_, outputs);
  }
  OpWorker* w = worker_;
  w->work = std::move(work);
  Napi::Promise p = w->promise();
  w->Queue();  // libuv owns it now; it deletes itself after OnOK/OnError
  worker_ = nullptr;
  return p;
}

namespace {
std::vector<std::pair<const char*, OpFunction>>& table() {
  static std::vector<std::pair<const char*, OpFunction>> t;  // function-local: safe static init order
  return t;
}
}  // namespace

OpRegistration::OpRegistration(const char* name, OpFunction fn) { table().emplace_back(name, fn); }

void exportOps(Napi::Env env, Napi::Object exports) {
  for (const auto& [name, fn] : table()) exports.Set(name, Napi::Function::New(env, fn, name));
}

}  // namespace rewardkit
