// lodi_torch: a thin, generic N-API binding of libtorch.
//
// Instead of one hand-written wrapper per ATen op, every op is reached through the c10 dispatcher
// by its schema name ("conv3d", "add.Tensor", ...). Arguments arrive from JavaScript as a positional
// array plus an optional keyword object and are converted to IValues guided by the op's schema, so
// the binding stays small while exposing the whole ATen op set with autograd. Model and physics code
// live in TypeScript.
#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <ATen/autocast_mode.h>
#include <c10/core/CPUAllocator.h>
#include <torch/torch.h>

// Collectives for data-parallel training (c10d with the Gloo backend): built when libtorch's c10d
// headers and Gloo's headers are present (Debian: libgloo-dev; binding.gyp defines LODI_C10D_GLOO).
#if defined(LODI_C10D_GLOO)
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#if defined(LODI_CUDA_STATS)
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

std::atomic<int64_t> g_live_tensors{0};

std::string FirstLine(const std::string& msg) {
  auto nl = msg.find('\n');
  return nl == std::string::npos ? msg : msg.substr(0, nl);
}

// Every libtorch exception becomes a JavaScript Error; an escaping C++ exception would abort Node.
template <typename Fn>
auto Guard(Napi::Env env, const char* what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string(what) + ": " + FirstLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(what) + ": " + FirstLine(e.what()));
  }
}

template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
Napi::Value Safe(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), "lodi_torch", [&] { return Fn(info); });
}

struct InstanceData {
  Napi::FunctionReference tensor_ctor;
  Napi::FunctionReference generator_ctor;
};

// ---------------------------------------------------------------------------------------------
// Tensor handle
// ---------------------------------------------------------------------------------------------
class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "TensorHandle",
                       {
                           InstanceMethod("dispose", &TensorHandle::Dispose),
                           InstanceMethod("isDisposed", &TensorHandle::IsDisposed),
                           InstanceMethod("shape", &TensorHandle::Shape),
                           InstanceMethod("dtype", &TensorHandle::Dtype),
                           InstanceMethod("device", &TensorHandle::Device),
                           InstanceMethod("numel", &TensorHandle::Numel),
                           InstanceMethod("requiresGrad", &TensorHandle::RequiresGrad),
                           InstanceMethod("setRequiresGrad", &TensorHandle::SetRequiresGrad),
                           InstanceMethod("grad", &TensorHandle::Grad),
                           InstanceMethod("setGrad", &TensorHandle::SetGrad),
                           InstanceMethod("backward", &TensorHandle::Backward),
                           InstanceMethod("retainGrad", &TensorHandle::RetainGrad),
                           InstanceMethod("isLeaf", &TensorHandle::IsLeaf),
                           InstanceMethod("toTypedArray", &TensorHandle::ToTypedArray),
                           InstanceMethod("view", &TensorHandle::View),
                           InstanceMethod("item", &TensorHandle::Item),
                           InstanceMethod("nbytes", &TensorHandle::Nbytes),
                           InstanceMethod("sameStorage", &TensorHandle::SameStorage),
                           InstanceMethod("copyFrom", &TensorHandle::CopyFrom),
                       });
  }

  explicit TensorHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorHandle>(info) {
    if (info.Length() == 1 && info[0].IsExternal()) {
      auto* t = info[0].As<Napi::External<at::Tensor>>().Data();
      tensor_ = std::move(*t);
      delete t;
      live_ = true;
      ++g_live_tensors;
    }
  }

  ~TensorHandle() override { Release(); }

  static Napi::Object Wrap(Napi::Env env, at::Tensor t) {
    auto* data = env.GetInstanceData<InstanceData>();
    auto ext = Napi::External<at::Tensor>::New(env, new at::Tensor(std::move(t)));
    return data->tensor_ctor.New({ext});
  }

  static at::Tensor& FromValue(const Napi::Value& v, const char* what) {
    if (!v.IsObject()) throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected a tensor");
    Napi::Object obj = v.As<Napi::Object>();
    Napi::Value handle = obj;
    // TS Tensor objects carry their native handle in `_h`.
    if (obj.Has("_h")) handle = obj.Get("_h");
    if (!handle.IsObject()) throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected a tensor");
    auto* data = v.Env().GetInstanceData<InstanceData>();
    if (!handle.As<Napi::Object>().InstanceOf(data->tensor_ctor.Value()))
      throw Napi::TypeError::New(v.Env(), std::string(what) + ": expected a tensor");
    TensorHandle* h = Napi::ObjectWrap<TensorHandle>::Unwrap(handle.As<Napi::Object>());
    if (!h->live_) throw Napi::Error::New(v.Env(), std::string(what) + ": tensor was already disposed");
    return h->tensor_;
  }

  at::Tensor& tensor(Napi::Env env) {
    if (!live_) throw Napi::Error::New(env, "tensor was already disposed");
    return tensor_;
  }

 private:
  void Release() {
    if (live_) {
      tensor_ = at::Tensor();
      live_ = false;
      --g_live_tensors;
    }
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }
  Napi::Value IsDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !live_); }

  Napi::Value Shape(const Napi::CallbackInfo& info) {
    auto& t = tensor(info.Env());
    auto sizes = t.sizes();
    Napi::Array out = Napi::Array::New(info.Env(), sizes.size());
    for (size_t i = 0; i < sizes.size(); ++i) out.Set(i, Napi::Number::New(info.Env(), (double)sizes[i]));
    return out;
  }
  Napi::Value Dtype(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), tensor(info.Env()).device().str());
  }
  Napi::Value Numel(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), (double)tensor(info.Env()).numel());
  }
  Napi::Value Nbytes(const Napi::CallbackInfo& info) {
    auto& t = tensor(info.Env());
    return Napi::Number::New(info.Env(), (double)(t.numel() * t.element_size()));
  }
  Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), tensor(info.Env()).requires_grad());
  }
  Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), "setRequiresGrad", [&]() -> Napi::Value {
    tensor(info.Env()).set_requires_grad(info[0].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
    });
  }
  Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), tensor(info.Env()).is_leaf());
  }
  Napi::Value Grad(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), "grad", [&]() -> Napi::Value {
    auto g = tensor(info.Env()).grad();
    if (!g.defined()) return info.Env().Null();
    return Wrap(info.Env(), g);
    });
  }
  Napi::Value SetGrad(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), "setGrad", [&]() -> Napi::Value {
    auto& t = tensor(info.Env());
    if (info[0].IsNull() || info[0].IsUndefined()) {
      t.mutable_grad() = at::Tensor();
    } else {
      t.mutable_grad() = FromValue(info[0], "setGrad");
    }
    return info.Env().Undefined();
    });
  }
  Napi::Value RetainGrad(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), "retainGrad", [&]() -> Napi::Value {
    tensor(info.Env()).retain_grad();
    return info.Env().Undefined();
    });
  }
  Napi::Value Backward(const Napi::CallbackInfo& info) {
    auto& t = tensor(info.Env());
    try {
      at::Tensor grad;
      if (info.Length() > 0 && !info[0].IsNull() && !info[0].IsUndefined()) grad = FromValue(info[0], "backward");
      bool retain = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
      t.backward(grad, retain);
    } catch (const c10::Error& e) {
      throw Napi::Error::New(info.Env(), std::string("backward: ") + e.what_without_backtrace());
    }
    return info.Env().Undefined();
  }
  Napi::Value ToTypedArray(const Napi::CallbackInfo& info);
  Napi::Value View(const Napi::CallbackInfo& info);
  Napi::Value Item(const Napi::CallbackInfo& info) {
    auto& t = tensor(info.Env());
    try {
      auto s = t.item();
      if (s.isBoolean()) return Napi::Boolean::New(info.Env(), s.toBool());
      if (s.isIntegral(false)) return Napi::Number::New(info.Env(), (double)s.toLong());
      return Napi::Number::New(info.Env(), s.toDouble());
    } catch (const c10::Error& e) {
      throw Napi::Error::New(info.Env(), std::string("item: ") + e.what_without_backtrace());
    }
  }
  Napi::Value SameStorage(const Napi::CallbackInfo& info) {
    auto& a = tensor(info.Env());
    auto& b = FromValue(info[0], "sameStorage");
    return Napi::Boolean::New(info.Env(), a.is_alias_of(b));
  }
  // Copies raw bytes from a typed array into this (contiguous CPU) tensor, e.g. when loading weights.
  Napi::Value CopyFrom(const Napi::CallbackInfo& info);

  at::Tensor tensor_;
  bool live_ = false;
};

// ---------------------------------------------------------------------------------------------
// Generator handle (seeded random streams)
// ---------------------------------------------------------------------------------------------
class GeneratorHandle : public Napi::ObjectWrap<GeneratorHandle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "GeneratorHandle",
                       {InstanceMethod("seed", &GeneratorHandle::Seed),
                        InstanceMethod("getState", &GeneratorHandle::GetState),
                        InstanceMethod("setState", &GeneratorHandle::SetState)});
  }
  explicit GeneratorHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GeneratorHandle>(info) {
    Guard(info.Env(), "Generator", [&] { Create(info); });
  }
  void Create(const Napi::CallbackInfo& info) {
    std::string device = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "cpu";
    uint64_t seed = (uint64_t)info[0].As<Napi::Number>().Int64Value();
    if (device.rfind("cuda", 0) == 0) {
      gen_ = at::globalContext().defaultGenerator(c10::Device(device)).clone();
    } else {
      gen_ = at::make_generator<at::CPUGeneratorImpl>(seed);
    }
    std::lock_guard<std::mutex> lock(gen_.mutex());
    gen_.set_current_seed(seed);
  }
  at::Generator gen_;

 private:
  Napi::Value Seed(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(gen_.mutex());
    gen_.set_current_seed((uint64_t)info[0].As<Napi::Number>().Int64Value());
    return info.Env().Undefined();
  }
  Napi::Value GetState(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(gen_.mutex());
    return TensorHandle::Wrap(info.Env(), gen_.get_state());
  }
  Napi::Value SetState(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(gen_.mutex());
    Guard(info.Env(), "setState", [&] { gen_.set_state(TensorHandle::FromValue(info[0], "setState")); });
    return info.Env().Undefined();
  }
};

// ---------------------------------------------------------------------------------------------
// Process group (c10d + Gloo): rendezvous through a file on a shared file system or a TCP store,
// then blocking collectives on CPU tensors. Generic: which tensors to reduce is the caller's choice.
// ---------------------------------------------------------------------------------------------
#if defined(LODI_C10D_GLOO)
class ProcessGroupHandle : public Napi::ObjectWrap<ProcessGroupHandle> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "ProcessGroupHandle",
                       {InstanceMethod("allreduceSum", &ProcessGroupHandle::AllreduceSum),
                        InstanceMethod("broadcast", &ProcessGroupHandle::Broadcast),
                        InstanceMethod("barrier", &ProcessGroupHandle::Barrier),
                        InstanceMethod("close", &ProcessGroupHandle::Close)});
  }
  // new ProcessGroupHandle({ rank, worldSize, file? | host + port, timeoutMs, deviceHost? })
  explicit ProcessGroupHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessGroupHandle>(info) {
    Guard(info.Env(), "ProcessGroup", [&] { Create(info); });
  }

 private:
  void Create(const Napi::CallbackInfo& info) {
    auto o = info[0].As<Napi::Object>();
    int rank = o.Get("rank").As<Napi::Number>().Int32Value();
    int size = o.Get("worldSize").As<Napi::Number>().Int32Value();
    auto timeout = std::chrono::milliseconds(o.Get("timeoutMs").As<Napi::Number>().Int64Value());
    c10::intrusive_ptr<c10d::Store> store;
    if (o.Has("file") && o.Get("file").IsString()) {
      store = c10::make_intrusive<c10d::FileStore>(o.Get("file").As<Napi::String>().Utf8Value(), size);
    } else {
      c10d::TCPStoreOptions so;
      so.port = (std::uint16_t)o.Get("port").As<Napi::Number>().Uint32Value();
      so.isServer = rank == 0;
      so.numWorkers = size;
      so.timeout = timeout;
      store = c10::make_intrusive<c10d::TCPStore>(o.Get("host").As<Napi::String>().Utf8Value(), so);
    }
    store->setTimeout(timeout);
    auto opts = c10d::ProcessGroupGloo::Options::create();
    opts->timeout = timeout;
    if (o.Has("deviceHost") && o.Get("deviceHost").IsString())
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(o.Get("deviceHost").As<Napi::String>().Utf8Value()));
    else if (o.Has("deviceInterface") && o.Get("deviceInterface").IsString())
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(o.Get("deviceInterface").As<Napi::String>().Utf8Value()));
    else
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    pg_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, opts);
  }
  c10d::ProcessGroupGloo& pg(Napi::Env env) {
    if (!pg_) throw Napi::Error::New(env, "ProcessGroup: already closed");
    return *pg_;
  }
  static std::vector<at::Tensor> Tensors(const Napi::Value& v, const char* what) {
    std::vector<at::Tensor> out;
    auto a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(TensorHandle::FromValue(a.Get(i), what));
    return out;
  }
  // In place: every tensor becomes the sum of its copies over the ranks. One collective per tensor
  // (a c10d tensor list holds one tensor per local device, all of one shape).
  Napi::Value AllreduceSum(const Napi::CallbackInfo& info) {
    Guard(info.Env(), "allreduceSum", [&] {
      for (auto& t : Tensors(info[0], "allreduceSum")) {
        std::vector<at::Tensor> one{t};
        c10d::AllreduceOptions opts;
        opts.reduceOp = c10d::ReduceOp::SUM;
        pg(info.Env()).allreduce(one, opts)->wait();
      }
    });
    return info.Env().Undefined();
  }
  // In place: every tensor takes the values of rank `root`.
  Napi::Value Broadcast(const Napi::CallbackInfo& info) {
    Guard(info.Env(), "broadcast", [&] {
      int root = info[1].As<Napi::Number>().Int32Value();
      for (auto& t : Tensors(info[0], "broadcast")) {
        std::vector<at::Tensor> one{t};
        c10d::BroadcastOptions opts;
        opts.rootRank = root;
        pg(info.Env()).broadcast(one, opts)->wait();
      }
    });
    return info.Env().Undefined();
  }
  Napi::Value Barrier(const Napi::CallbackInfo& info) {
    Guard(info.Env(), "barrier", [&] { pg(info.Env()).barrier()->wait(); });
    return info.Env().Undefined();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    pg_.reset();
    return info.Env().Undefined();
  }
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
};
#endif

// ---------------------------------------------------------------------------------------------
// dtype helpers
// ---------------------------------------------------------------------------------------------
const char* DtypeName(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kInt: return "int32";
    case at::kLong: return "int64";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    case at::kComplexFloat: return "complex64";
    case at::kComplexDouble: return "complex128";
    default: return "unknown";
  }
}

bool ParseDtype(const std::string& n, at::ScalarType* out) {
  static const std::unordered_map<std::string, at::ScalarType> m = {
      {"float32", at::kFloat}, {"float64", at::kDouble}, {"float16", at::kHalf}, {"bfloat16", at::kBFloat16},
      {"int32", at::kInt},     {"int64", at::kLong},     {"int16", at::kShort},  {"int8", at::kChar},
      {"uint8", at::kByte},    {"bool", at::kBool},      {"complex64", at::kComplexFloat},
      {"complex128", at::kComplexDouble}};
  auto it = m.find(n);
  if (it == m.end()) return false;
  *out = it->second;
  return true;
}

Napi::Value TensorHandle::Dtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DtypeName(tensor(info.Env()).scalar_type()));
}

Napi::Value MakeTypedArray(Napi::Env env, napi_typedarray_type kind, size_t length, Napi::ArrayBuffer ab) {
  napi_value out;
  napi_status st = napi_create_typedarray(env, kind, length, ab, 0, &out);
  NAPI_THROW_IF_FAILED(env, st, Napi::Value());
  return Napi::Value(env, out);
}

napi_typedarray_type TypedArrayKind(at::ScalarType s, bool* ok) {
  *ok = true;
  switch (s) {
    case at::kFloat: return napi_float32_array;
    case at::kDouble: return napi_float64_array;
    case at::kInt: return napi_int32_array;
    case at::kLong: return napi_bigint64_array;
    case at::kShort: return napi_int16_array;
    case at::kChar: return napi_int8_array;
    case at::kByte: return napi_uint8_array;
    case at::kBool: return napi_uint8_array;
    default: *ok = false; return napi_uint8_array;
  }
}

// Copy out: always safe, the JS array owns its memory.
Napi::Value TensorHandle::ToTypedArray(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), "toTypedArray", [&]() -> Napi::Value {
  Napi::Env env = info.Env();
  at::Tensor t = tensor(env).detach();
  if (t.is_complex()) t = at::view_as_real(t);
  if (!t.device().is_cpu()) t = t.to(at::kCPU);
  t = t.contiguous();
  bool ok;
  auto kind = TypedArrayKind(t.scalar_type(), &ok);
  if (!ok) throw Napi::TypeError::New(env, std::string("toTypedArray: unsupported dtype ") + DtypeName(t.scalar_type()));
  size_t nbytes = t.numel() * t.element_size();
  auto ab = Napi::ArrayBuffer::New(env, nbytes);
  if (nbytes) std::memcpy(ab.Data(), t.data_ptr(), nbytes);
  return MakeTypedArray(env, kind, t.numel(), ab);
  });
}

// Zero-copy view of a contiguous CPU tensor's memory; the view keeps the storage alive until GC.
Napi::Value TensorHandle::View(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), "view", [&]() -> Napi::Value {
  Napi::Env env = info.Env();
  at::Tensor& src = tensor(env);
  if (!src.device().is_cpu() || !src.is_contiguous() || src.is_complex())
    throw Napi::Error::New(env, "view: needs a contiguous real CPU tensor (use toTypedArray to copy)");
  bool ok;
  auto kind = TypedArrayKind(src.scalar_type(), &ok);
  if (!ok) throw Napi::TypeError::New(env, std::string("view: unsupported dtype ") + DtypeName(src.scalar_type()));
  auto* keep = new at::Tensor(src.detach());
  size_t nbytes = keep->numel() * keep->element_size();
  if (nbytes == 0) {
    delete keep;
    return MakeTypedArray(env, kind, 0, Napi::ArrayBuffer::New(env, 0));
  }
  auto ab = Napi::ArrayBuffer::New(env, keep->data_ptr(), nbytes,
                                   [](Napi::Env, void*, at::Tensor* k) { delete k; }, keep);
  return MakeTypedArray(env, kind, keep->numel(), ab);
  });
}

Napi::Value TensorHandle::CopyFrom(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), "copyFrom", [&]() -> Napi::Value {
  Napi::Env env = info.Env();
  at::Tensor& dst = tensor(env);
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "copyFrom: expected a typed array");
  auto ta = info[0].As<Napi::TypedArray>();
  size_t nbytes = dst.numel() * dst.element_size();
  if (ta.ByteLength() != nbytes) {
    std::ostringstream m;
    m << "copyFrom: byte length " << ta.ByteLength() << " does not match tensor of " << nbytes << " bytes";
    throw Napi::Error::New(env, m.str());
  }
  auto* bytes = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  at::NoGradGuard guard;
  auto src = at::from_blob(bytes, dst.sizes(), at::TensorOptions().dtype(dst.scalar_type()));
  dst.copy_(src);
  return env.Undefined();
  });
}

// ---------------------------------------------------------------------------------------------
// JS value -> IValue, guided by the schema type
// ---------------------------------------------------------------------------------------------
std::string Describe(const Napi::Value& v);

// "op: argument 'name'", formatted only when an error is reported (building it for every argument
// of every call cost about a microsecond per op).
struct Where {
  const std::string& op;
  const std::string& arg;
  std::string str() const { return op + ": argument '" + arg + "'"; }
};

c10::IValue ToIValue(const Napi::Value& v, const c10::TypePtr& type, const c10::TypePtr& real,
                     c10::optional<int32_t> N, const Where& where);

c10::IValue ScalarFrom(const Napi::Value& v, const Where& where) {
  if (v.IsBoolean()) return c10::IValue(v.As<Napi::Boolean>().Value());
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) return c10::IValue((int64_t)d);
    return c10::IValue(d);
  }
  throw Napi::TypeError::New(v.Env(), where.str() + ": expected a number");
}

c10::IValue ToIValue(const Napi::Value& v, const c10::TypePtr& type, const c10::TypePtr& real,
                     c10::optional<int32_t> N, const Where& where) {
  Napi::Env env = v.Env();
  auto kind = type->kind();
  auto realKind = real ? real->kind() : kind;
  if (kind == c10::TypeKind::OptionalType) {
    if (v.IsNull() || v.IsUndefined()) return c10::IValue();
    auto elem = type->castRaw<c10::OptionalType>()->getElementType();
    auto relem = real && real->kind() == c10::TypeKind::OptionalType
                     ? real->castRaw<c10::OptionalType>()->getElementType()
                     : elem;
    return ToIValue(v, elem, relem, N, where);
  }
  switch (kind) {
    case c10::TypeKind::TensorType: {
      if (v.IsNumber() || v.IsBoolean()) {
        // Scalars where a tensor is expected become 0-d tensors (e.g. where(cond, x, 0)).
        auto s = ScalarFrom(v, where);
        return c10::IValue(s.isDouble() ? at::scalar_tensor(s.toDouble(), at::kDouble)
                                        : s.isInt() ? at::scalar_tensor(s.toInt(), at::kLong)
                                                    : at::scalar_tensor(s.toBool(), at::kBool));
      }
      return c10::IValue(TensorHandle::FromValue(v, where.str().c_str()));
    }
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: {
      if (v.IsString()) {
        std::string s = v.As<Napi::String>().Utf8Value();
        if (realKind == c10::TypeKind::ScalarTypeType) {
          at::ScalarType st;
          if (!ParseDtype(s, &st)) throw Napi::TypeError::New(env, where.str() + ": unknown dtype '" + s + "'");
          return c10::IValue((int64_t)st);
        }
        if (realKind == c10::TypeKind::MemoryFormatType) {
          if (s == "contiguous") return c10::IValue((int64_t)at::MemoryFormat::Contiguous);
          if (s == "preserve") return c10::IValue((int64_t)at::MemoryFormat::Preserve);
          if (s == "channels_last_3d") return c10::IValue((int64_t)at::MemoryFormat::ChannelsLast3d);
          throw Napi::TypeError::New(env, where.str() + ": unknown memory format '" + s + "'");
        }
        if (realKind == c10::TypeKind::LayoutType) {
          if (s == "strided") return c10::IValue((int64_t)at::kStrided);
          throw Napi::TypeError::New(env, where.str() + ": unknown layout '" + s + "'");
        }
        throw Napi::TypeError::New(env, where.str() + ": expected an integer, got '" + s + "'");
      }
      if (!v.IsNumber()) throw Napi::TypeError::New(env, where.str() + ": expected an integer, got " + Describe(v));
      return c10::IValue(v.As<Napi::Number>().Int64Value());
    }
    case c10::TypeKind::FloatType:
      if (!v.IsNumber()) throw Napi::TypeError::New(env, where.str() + ": expected a number, got " + Describe(v));
      return c10::IValue(v.As<Napi::Number>().DoubleValue());
    case c10::TypeKind::BoolType:
      if (!v.IsBoolean()) throw Napi::TypeError::New(env, where.str() + ": expected a boolean, got " + Describe(v));
      return c10::IValue(v.As<Napi::Boolean>().Value());
    case c10::TypeKind::NumberType:
      return ScalarFrom(v, where);
    case c10::TypeKind::StringType:
      if (!v.IsString()) throw Napi::TypeError::New(env, where.str() + ": expected a string, got " + Describe(v));
      return c10::IValue(v.As<Napi::String>().Utf8Value());
    case c10::TypeKind::DeviceObjType:
      if (!v.IsString()) throw Napi::TypeError::New(env, where.str() + ": expected a device string, got " + Describe(v));
      return c10::IValue(c10::Device(v.As<Napi::String>().Utf8Value()));
    case c10::TypeKind::GeneratorType: {
      if (!v.IsObject()) throw Napi::TypeError::New(env, where.str() + ": expected a generator");
      auto* data = env.GetInstanceData<InstanceData>();
      Napi::Object obj = v.As<Napi::Object>();
      Napi::Value h = obj.Has("_g") ? obj.Get("_g") : Napi::Value(obj);
      if (!h.IsObject() || !h.As<Napi::Object>().InstanceOf(data->generator_ctor.Value()))
        throw Napi::TypeError::New(env, where.str() + ": expected a generator");
      return c10::IValue(Napi::ObjectWrap<GeneratorHandle>::Unwrap(h.As<Napi::Object>())->gen_);
    }
    case c10::TypeKind::ListType: {
      auto elem = type->castRaw<c10::ListType>()->getElementType();
      auto ek = elem->kind();
      if (ek == c10::TypeKind::IntType || ek == c10::TypeKind::SymIntType) {
        std::vector<int64_t> out;
        if (v.IsNumber()) {
          // A single int where int[N] is expected is repeated N times, as in PyTorch.
          out.assign(N ? *N : 1, v.As<Napi::Number>().Int64Value());
        } else if (v.IsArray()) {
          auto a = v.As<Napi::Array>();
          for (uint32_t i = 0; i < a.Length(); ++i) {
            Napi::Value e = a.Get(i);
            if (!e.IsNumber()) throw Napi::TypeError::New(env, where.str() + ": expected integers in list");
            out.push_back(e.As<Napi::Number>().Int64Value());
          }
        } else {
          throw Napi::TypeError::New(env, where.str() + ": expected a list of integers, got " + Describe(v));
        }
        return c10::IValue(out);
      }
      if (ek == c10::TypeKind::FloatType) {
        std::vector<double> out;
        if (v.IsNumber()) {
          out.assign(N ? *N : 1, v.As<Napi::Number>().DoubleValue());
        } else if (v.IsArray()) {
          auto a = v.As<Napi::Array>();
          for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(a.Get(i).As<Napi::Number>().DoubleValue());
        } else {
          throw Napi::TypeError::New(env, where.str() + ": expected a list of numbers, got " + Describe(v));
        }
        return c10::IValue(out);
      }
      if (ek == c10::TypeKind::BoolType) {
        if (!v.IsArray()) throw Napi::TypeError::New(env, where.str() + ": expected a list of booleans");
        auto a = v.As<Napi::Array>();
        c10::List<bool> out;
        for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(a.Get(i).As<Napi::Boolean>().Value());
        return c10::IValue(out);
      }
      if (ek == c10::TypeKind::TensorType) {
        if (!v.IsArray()) throw Napi::TypeError::New(env, where.str() + ": expected a list of tensors");
        auto a = v.As<Napi::Array>();
        std::vector<at::Tensor> out;
        for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(TensorHandle::FromValue(a.Get(i), where.str().c_str()));
        return c10::IValue(out);
      }
      if (ek == c10::TypeKind::OptionalType &&
          elem->castRaw<c10::OptionalType>()->getElementType()->kind() == c10::TypeKind::TensorType) {
        if (!v.IsArray()) throw Napi::TypeError::New(env, where.str() + ": expected a list of tensors or nulls");
        auto a = v.As<Napi::Array>();
        c10::List<c10::optional<at::Tensor>> out;
        for (uint32_t i = 0; i < a.Length(); ++i) {
          Napi::Value e = a.Get(i);
          if (e.IsNull() || e.IsUndefined())
            out.push_back(c10::nullopt);
          else
            out.push_back(TensorHandle::FromValue(e, where.str().c_str()));
        }
        return c10::IValue(out);
      }
      throw Napi::TypeError::New(env, where.str() + ": unsupported list type " + type->str());
    }
    default:
      throw Napi::TypeError::New(env, where.str() + ": unsupported argument type " + type->str());
  }
}

Napi::Value FromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return TensorHandle::Wrap(env, v.toTensor());
  if (v.isNone()) return env.Null();
  if (v.isInt()) return Napi::Number::New(env, (double)v.toInt());
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isString()) return Napi::String::New(env, v.toStringRef());
  if (v.isScalar()) {
    auto s = v.toScalar();
    return Napi::Number::New(env, s.isIntegral(false) ? (double)s.toLong() : s.toDouble());
  }
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    Napi::Array out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) out.Set(i, TensorHandle::Wrap(env, list.get(i)));
    return out;
  }
  if (v.isIntList()) {
    auto list = v.toIntList();
    Napi::Array out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) out.Set(i, Napi::Number::New(env, (double)list.get(i)));
    return out;
  }
  if (v.isTuple()) {
    auto& elems = v.toTupleRef().elements();
    Napi::Array out = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); ++i) out.Set(i, FromIValue(env, elems[i]));
    return out;
  }
  if (v.isList()) {
    auto list = v.toListRef();
    Napi::Array out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) out.Set(i, FromIValue(env, list[i]));
    return out;
  }
  throw Napi::TypeError::New(env, "unsupported return type " + v.tagKind());
}

std::string Describe(const Napi::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsUndefined()) return "undefined";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsBoolean()) return "boolean";
  if (v.IsArray()) return "array";
  return "object";
}

std::string DescribeStack(const torch::jit::Stack& stack) {
  std::ostringstream m;
  bool first = true;
  for (const auto& iv : stack) {
    if (!iv.isTensor()) continue;
    const auto& t = iv.toTensor();
    if (!first) m << ", ";
    first = false;
    if (!t.defined()) {
      m << "undefined";
      continue;
    }
    m << DtypeName(t.scalar_type()) << "[";
    for (size_t i = 0; i < (size_t)t.dim(); ++i) m << (i ? "," : "") << t.size(i);
    m << "]";
    if (!t.device().is_cpu()) m << "@" << t.device().str();
  }
  return m.str();
}

// Op handles are looked up once per "name.overload" and cached.
c10::OperatorHandle FindOp(Napi::Env env, const std::string& full) {
  static std::mutex mu;
  static std::unordered_map<std::string, c10::OperatorHandle> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(full);
  if (it != cache.end()) return it->second;
  auto dot = full.find('.');
  std::string name = "aten::" + full.substr(0, dot);
  std::string overload = dot == std::string::npos ? "" : full.substr(dot + 1);
  auto op = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!op) throw Napi::Error::New(env, "unknown op '" + full + "' (expected an ATen schema name such as 'add.Tensor')");
  cache.emplace(full, *op);
  return *op;
}

// call(opName, positionalArgs, kwargs?) -> result(s)
Napi::Value Call(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string full = info[0].As<Napi::String>().Utf8Value();
  auto op = FindOp(env, full);
  const auto& schema = op.schema();
  const auto& args = schema.arguments();
  Napi::Array pos = info.Length() > 1 && info[1].IsArray() ? info[1].As<Napi::Array>() : Napi::Array::New(env);
  bool hasKw = info.Length() > 2 && info[2].IsObject();
  Napi::Object kw = hasKw ? info[2].As<Napi::Object>() : Napi::Object();
  if (pos.Length() > args.size())
    throw Napi::Error::New(env, full + ": too many arguments (" + std::to_string(pos.Length()) + " for schema " +
                                    c10::toString(schema) + ")");
  // Unknown keywords are errors: silently dropping one (e.g. `generator` on an overload without it)
  // would quietly change results.
  Napi::Array keys = hasKw ? kw.GetPropertyNames() : Napi::Array::New(env, 0);
  for (uint32_t k = 0; k < keys.Length(); ++k) {
    std::string key = keys.Get(k).As<Napi::String>().Utf8Value();
    bool known = false;
    for (const auto& a : args) known = known || a.name() == key;
    if (!known) throw Napi::Error::New(env, full + ": unknown keyword argument '" + key + "' (schema " + c10::toString(schema) + ")");
  }
  torch::jit::Stack stack;
  stack.reserve(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    Where where{full, a.name()};
    Napi::Value v = env.Undefined();
    bool given = false;
    if (i < pos.Length()) {
      v = pos.Get(i);
      given = !v.IsUndefined();
    }
    if (!given && hasKw && kw.Has(a.name())) {
      v = kw.Get(a.name());
      given = !v.IsUndefined();
    }
    if (!given) {
      if (a.default_value()) {
        stack.push_back(*a.default_value());
        continue;
      }
      if (a.type()->kind() == c10::TypeKind::OptionalType) {
        stack.emplace_back();
        continue;
      }
      throw Napi::Error::New(env, where.str() + " is required (schema " + c10::toString(schema) + ")");
    }
    try {
      stack.push_back(ToIValue(v, a.type(), a.real_type(), a.N(), where));
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, where.str() + ": " + FirstLine(e.what()));
    }
  }
  // The call consumes the stack; keep the inputs (reference-counted, cheap) for error messages.
  torch::jit::Stack inputs = stack;
  try {
    op.callBoxed(&stack);
  } catch (const c10::Error& e) {
    std::string shapes = DescribeStack(inputs);
    std::string msg = e.what_without_backtrace();
    auto nl = msg.find('\n');
    throw Napi::Error::New(env, full + "(" + shapes + "): " + (nl == std::string::npos ? msg : msg.substr(0, nl)));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, full + ": " + e.what());
  }
  if (stack.empty()) return env.Undefined();
  if (stack.size() == 1) return FromIValue(env, stack[0]);
  Napi::Array out = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); ++i) out.Set(i, FromIValue(env, stack[i]));
  return out;
}

// The schema string of an op, for error messages and documentation.
Napi::Value Schema(const Napi::CallbackInfo& info) {
  auto op = FindOp(info.Env(), info[0].As<Napi::String>().Utf8Value());
  return Napi::String::New(info.Env(), c10::toString(op.schema()));
}

Napi::Value FromTypedArray(const Napi::CallbackInfo& info) {
  // fromTypedArray(typedArray, shape, dtype?) -> copy into a new CPU tensor
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "fromTypedArray: expected a typed array");
  auto ta = info[0].As<Napi::TypedArray>();
  at::ScalarType st;
  switch (ta.TypedArrayType()) {
    case napi_float32_array: st = at::kFloat; break;
    case napi_float64_array: st = at::kDouble; break;
    case napi_int32_array: st = at::kInt; break;
    case napi_bigint64_array: st = at::kLong; break;
    case napi_int16_array: st = at::kShort; break;
    case napi_int8_array: st = at::kChar; break;
    case napi_uint8_array: st = at::kByte; break;
    default: throw Napi::TypeError::New(env, "fromTypedArray: unsupported typed array kind");
  }
  if (info.Length() > 2 && info[2].IsString()) {
    at::ScalarType want;
    std::string n = info[2].As<Napi::String>().Utf8Value();
    if (!ParseDtype(n, &want)) throw Napi::TypeError::New(env, "fromTypedArray: unknown dtype " + n);
    if (c10::elementSize(want) != c10::elementSize(st))
      throw Napi::TypeError::New(env, "fromTypedArray: dtype " + n + " does not match the typed array element size");
    st = want;
  }
  std::vector<int64_t> shape;
  auto a = info[1].As<Napi::Array>();
  int64_t n = 1;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    shape.push_back(a.Get(i).As<Napi::Number>().Int64Value());
    n *= shape.back();
  }
  if ((size_t)n != ta.ElementLength()) {
    std::ostringstream m;
    m << "fromTypedArray: shape [";
    for (size_t i = 0; i < shape.size(); ++i) m << (i ? "," : "") << shape[i];
    m << "] needs " << n << " elements, got " << ta.ElementLength();
    throw Napi::Error::New(env, m.str());
  }
  auto* bytes = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(st));
  if (n) std::memcpy(t.data_ptr(), bytes, n * c10::elementSize(st));
  return TensorHandle::Wrap(env, t);
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(info[0].As<Napi::Boolean>().Value());
  return Napi::Boolean::New(info.Env(), prev);
}
Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled());
}
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  at::set_num_threads((int)info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}
Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}
Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  at::manual_seed((uint64_t)info[0].As<Napi::Number>().Int64Value());
  return info.Env().Undefined();
}
Napi::Value LiveTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), (double)g_live_tensors.load());
}
Napi::Value CudaAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), torch::cuda::is_available());
}
Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), (double)torch::cuda::device_count());
}
Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  if (torch::cuda::is_available()) torch::cuda::synchronize();
  return info.Env().Undefined();
}
// ---------------------------------------------------------------------------------------------
// Mixed precision (autocast) and math-mode switches
// ---------------------------------------------------------------------------------------------
// libtorch 2.4 replaced the per-device autocast functions (set_enabled, set_cpu_enabled,
// set_autocast_gpu_dtype, ...) by set_autocast_enabled(device_type, ...) and removed the old ones
// later; both are spelled here so that one source builds against 1.13 and 2.x.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define LODI_AUTOCAST_BY_DEVICE 1
#endif

at::DeviceType AutocastDevice(const Napi::Env& env, const std::string& d) {
  if (d == "cpu") return at::kCPU;
  if (d == "cuda") return at::kCUDA;
  throw Napi::TypeError::New(env, "autocast: device type must be 'cpu' or 'cuda', got '" + d + "'");
}
bool AutocastEnabled(at::DeviceType t) {
#if defined(LODI_AUTOCAST_BY_DEVICE)
  return at::autocast::is_autocast_enabled(t);
#else
  return t == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}
at::ScalarType AutocastDtype(at::DeviceType t) {
#if defined(LODI_AUTOCAST_BY_DEVICE)
  return at::autocast::get_autocast_dtype(t);
#else
  return t == at::kCPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
#endif
}

// autocastState(deviceType) -> { enabled, dtype } of this thread.
Napi::Value AutocastState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::DeviceType t = AutocastDevice(env, info[0].As<Napi::String>().Utf8Value());
  Napi::Object o = Napi::Object::New(env);
  o.Set("enabled", Napi::Boolean::New(env, AutocastEnabled(t)));
  o.Set("dtype", Napi::String::New(env, DtypeName(AutocastDtype(t))));
  return o;
}

// setAutocast(deviceType, enabled, dtype): autocast of this thread (ops dispatched on this thread
// afterwards run their listed ops in `dtype`: convolutions and matrix products, as in PyTorch).
Napi::Value SetAutocast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  at::DeviceType t = AutocastDevice(env, info[0].As<Napi::String>().Utf8Value());
  bool on = info[1].As<Napi::Boolean>().Value();
  std::string dn = info[2].As<Napi::String>().Utf8Value();
  at::ScalarType st;
  if (!ParseDtype(dn, &st) || (st != at::kBFloat16 && st != at::kHalf))
    throw Napi::TypeError::New(env, "autocast: dtype must be 'bfloat16' or 'float16', got '" + dn + "'");
#if defined(LODI_AUTOCAST_BY_DEVICE)
  at::autocast::set_autocast_dtype(t, st);
  at::autocast::set_autocast_enabled(t, on);
#else
  if (t == at::kCPU) {
    at::autocast::set_autocast_cpu_dtype(st);
    at::autocast::set_cpu_enabled(on);
  } else {
    at::autocast::set_autocast_gpu_dtype(st);
    at::autocast::set_enabled(on);
  }
#endif
  return env.Undefined();
}

// autocastNesting(+1 | -1) -> the new depth; leaving the outermost region frees the cache of
// lower-precision weight copies (what PyTorch's autocast.__exit__ does).
Napi::Value AutocastNesting(const Napi::CallbackInfo& info) {
  int delta = info[0].As<Napi::Number>().Int32Value();
  int depth = delta > 0 ? at::autocast::increment_nesting() : at::autocast::decrement_nesting();
  if (delta < 0 && depth == 0) at::autocast::clear_cache();
  return Napi::Number::New(info.Env(), depth);
}

// mathMode() -> { allowTF32CuBLAS, allowTF32CuDNN, benchmarkCuDNN }: process-wide switches of the
// CUDA backends (TF32 tensor cores for float32 matrix products / convolutions; cuDNN autotuning).
// They are flags in ATen's global context and can be read and set in a CPU build too.
Napi::Value MathMode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto& ctx = at::globalContext();
  Napi::Object o = Napi::Object::New(env);
  o.Set("allowTF32CuBLAS", Napi::Boolean::New(env, ctx.allowTF32CuBLAS()));
  o.Set("allowTF32CuDNN", Napi::Boolean::New(env, ctx.allowTF32CuDNN()));
  o.Set("benchmarkCuDNN", Napi::Boolean::New(env, ctx.benchmarkCuDNN()));
  return o;
}
// setMathMode({ allowTF32CuBLAS?, allowTF32CuDNN?, benchmarkCuDNN? }): sets the given ones.
Napi::Value SetMathMode(const Napi::CallbackInfo& info) {
  auto o = info[0].As<Napi::Object>();
  auto& ctx = at::globalContext();
  if (o.Has("allowTF32CuBLAS")) ctx.setAllowTF32CuBLAS(o.Get("allowTF32CuBLAS").As<Napi::Boolean>().Value());
  if (o.Has("allowTF32CuDNN")) ctx.setAllowTF32CuDNN(o.Get("allowTF32CuDNN").As<Napi::Boolean>().Value());
  if (o.Has("benchmarkCuDNN")) ctx.setBenchmarkCuDNN(o.Get("benchmarkCuDNN").As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

// cudaMemoryStats(index) -> { allocated, allocatedPeak, reserved, reservedPeak } in bytes of the
// CUDA caching allocator for one device, or null in a build without CUDA statistics (LODI_CUDA_STATS
// is defined where libc10_cuda is linked). cudaResetPeak(index) restarts the peaks.
Napi::Value CudaMemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#if defined(LODI_CUDA_STATS)
  if (!torch::cuda::is_available()) return env.Null();
  auto dev = (c10::DeviceIndex)info[0].As<Napi::Number>().Int32Value();
  auto st = c10::cuda::CUDACachingAllocator::getDeviceStats(dev);
  const size_t all = 0;  // StatType::AGGREGATE
  Napi::Object o = Napi::Object::New(env);
  o.Set("allocated", Napi::Number::New(env, (double)st.allocated_bytes[all].current));
  o.Set("allocatedPeak", Napi::Number::New(env, (double)st.allocated_bytes[all].peak));
  o.Set("reserved", Napi::Number::New(env, (double)st.reserved_bytes[all].current));
  o.Set("reservedPeak", Napi::Number::New(env, (double)st.reserved_bytes[all].peak));
  return o;
#else
  return env.Null();
#endif
}
Napi::Value CudaResetPeak(const Napi::CallbackInfo& info) {
#if defined(LODI_CUDA_STATS)
  if (torch::cuda::is_available()) c10::cuda::CUDACachingAllocator::resetPeakStats((c10::DeviceIndex)info[0].As<Napi::Number>().Int32Value());
#endif
  return info.Env().Undefined();
}

Napi::Value ConfigInfo(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), at::show_config() + "\n" + at::get_parallel_info());
}
Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                                           "." + std::to_string(TORCH_VERSION_PATCH));
}

// ---------------------------------------------------------------------------------------------
// CPU memory: a size-keyed cache of large tensor blocks
// ---------------------------------------------------------------------------------------------
// Large tensors (MBs to GBs) are allocated and freed at every layer of every step. Two ways of
// serving them from glibc both failed here:
//  - glibc's defaults give each one a fresh mmap() and return it on free, so every reuse pays its
//    page faults again (HALOgen inference ran 2-3x slower);
//  - keeping them in the brk heap (M_MMAP_MAX=0, no trimming) grew without bound: the heap also
//    holds small objects that live until Node runs the N-API finalizers of dead tensor handles,
//    which it does only between event-loop turns, i.e. never inside a synchronous loop over windows
//    or batches. Those small objects land in the big blocks freed between steps, split them, and
//    the next step's big blocks no longer fit, so the heap grew by ~100 MB per forward pass.
// So blocks of at least kBigBlock bytes get their own mappings and are kept, on free, in a cache of
// idle blocks; a request takes the smallest idle block that is at most 25% larger (already faulted
// in), else maps a new one. Without coalescing, one step's requests need about 1.4-1.9x the peak of
// bytes in use to be served from the cache alone (HALOgen cpu preset, batches 1 and 4), so idle
// bytes are bounded by twice the high-water mark of bytes in use (or by LODI_CPU_CACHE_MB when
// set), least recently freed first out: memory stays at a few times the peak of one step, however
// many steps run. glibc keeps the small objects, with a fixed mmap threshold so that its own big
// blocks (typed arrays, oneDNN scratch) never sit in, and get split inside, the heap either.
// LODI_MALLOC=system keeps libtorch's allocator and glibc's defaults.
constexpr size_t kBigBlock = size_t(128) << 10;

class CachingCpuAllocator final : public c10::Allocator {
 public:
  explicit CachingCpuAllocator(c10::Allocator* fallback) : fallback_(fallback) {
    const char* mb = std::getenv("LODI_CPU_CACHE_MB");
    if (mb && *mb) fixed_limit_ = (int64_t)std::strtoll(mb, nullptr, 10) << 20;
    page_ = (size_t)sysconf(_SC_PAGESIZE);
  }

  // c10::Allocator::allocate is const in libtorch 1.x and non-const in 2.x, which also adds the pure
  // virtual copy_data: both forms are defined (no `override`), the headers' one is the override.
  c10::DataPtr allocate(size_t n) const {
    void* p = n >= kBigBlock ? Self()->Big(n) : fallback_->raw_allocate(n);
    return {p, p, &Delete, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DataPtr allocate(size_t n) { return static_cast<const CachingCpuAllocator*>(this)->allocate(n); }
  void copy_data(void* dest, const void* src, std::size_t count) const {
    if (count) std::memcpy(dest, src, count);
  }
  c10::DeleterFnPtr raw_deleter() const override { return &Delete; }

  struct Stats {
    int64_t in_use, cached, peak, limit, hits, misses;
  };
  Stats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return {in_use_, cached_, peak_, Limit(), hits_, misses_};
  }
  /** Unmaps every idle block. */
  void EmptyCache() {
    std::lock_guard<std::mutex> lock(mu_);
    while (!lru_.empty()) Evict(std::prev(lru_.end()));
  }
  static CachingCpuAllocator* instance;

 private:
  struct Idle;
  using Lru = std::list<Idle>;
  using BySize = std::multimap<size_t, Lru::iterator>;
  struct Idle {
    void* p;
    size_t size;
    BySize::iterator where;
  };
  CachingCpuAllocator* Self() const { return const_cast<CachingCpuAllocator*>(this); }

  void* Big(size_t n) {
    size_t size = (n + page_ - 1) / page_ * page_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = by_size_.lower_bound(size);
      if (it != by_size_.end() && it->first - size <= size / 4) {
        auto node = it->second;
        void* p = node->p;
        size_t have = node->size;
        by_size_.erase(it);
        lru_.erase(node);
        cached_ -= (int64_t)have;
        Used(p, have);
        ++hits_;
        return p;
      }
      ++misses_;
    }
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      // Out of address space or memory: give the idle blocks back and try once more.
      EmptyCache();
      p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) TORCH_CHECK(false, "out of memory: could not map ", size, " bytes for a tensor");
    }
    std::lock_guard<std::mutex> lock(mu_);
    Used(p, size);
    return p;
  }

  void Used(void* p, size_t size) {
    live_.emplace(p, size);
    in_use_ += (int64_t)size;
    if (in_use_ > peak_) peak_ = in_use_;
  }

  int64_t Limit() const { return fixed_limit_ >= 0 ? fixed_limit_ : 2 * peak_; }

  void Evict(Lru::iterator node) {
    by_size_.erase(node->where);
    cached_ -= (int64_t)node->size;
    munmap(node->p, node->size);
    lru_.erase(node);
  }

  // Frees either kind of block: those of the cache are found in live_, the rest were the fallback's.
  static void Delete(void* p) {
    if (!p) return;
    auto* self = instance;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      auto it = self->live_.find(p);
      if (it != self->live_.end()) {
        size_t size = it->second;
        self->live_.erase(it);
        self->in_use_ -= (int64_t)size;
        self->lru_.push_front({p, size, {}});
        self->lru_.front().where = self->by_size_.emplace(size, self->lru_.begin());
        self->cached_ += (int64_t)size;
        while (self->cached_ > self->Limit() && !self->lru_.empty()) self->Evict(std::prev(self->lru_.end()));
        return;
      }
    }
    self->fallback_->raw_deallocate(p);
  }

  c10::Allocator* fallback_;
  size_t page_ = 4096;
  int64_t fixed_limit_ = -1;
  std::mutex mu_;
  std::unordered_map<void*, size_t> live_;
  Lru lru_;  // idle blocks, most recently freed first
  BySize by_size_;
  int64_t in_use_ = 0, cached_ = 0, peak_ = 0, hits_ = 0, misses_ = 0;
};
CachingCpuAllocator* CachingCpuAllocator::instance = nullptr;

// Once per process (the addon may be loaded by several worker threads). The allocator is never
// destroyed: tensors may still be freed while the process exits.
void SetUpCpuMemory() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* mode = std::getenv("LODI_MALLOC");
    if (mode && std::strcmp(mode, "system") == 0) return;
    c10::Allocator* fallback = c10::GetCPUAllocator();
    // raw_allocate / raw_deallocate of the fallback are used for the small blocks.
    if (!fallback->raw_deleter()) return;
    mallopt(M_MMAP_THRESHOLD, (int)kBigBlock);
    CachingCpuAllocator::instance = new CachingCpuAllocator(fallback);
    c10::SetCPUAllocator(CachingCpuAllocator::instance, /*priority=*/UINT8_MAX);
  });
}

// memoryStats() -> { inUse, cached, peak, limit, hits, misses } in bytes of large CPU blocks, or
// null under LODI_MALLOC=system.
Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* a = CachingCpuAllocator::instance;
  if (!a) return env.Null();
  auto s = a->stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("inUse", Napi::Number::New(env, (double)s.in_use));
  o.Set("cached", Napi::Number::New(env, (double)s.cached));
  o.Set("peak", Napi::Number::New(env, (double)s.peak));
  o.Set("limit", Napi::Number::New(env, (double)s.limit));
  o.Set("hits", Napi::Number::New(env, (double)s.hits));
  o.Set("misses", Napi::Number::New(env, (double)s.misses));
  return o;
}
Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  if (CachingCpuAllocator::instance) CachingCpuAllocator::instance->EmptyCache();
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  SetUpCpuMemory();
  auto* data = new InstanceData();
  Napi::Function tctor = TensorHandle::Init(env);
  Napi::Function gctor = GeneratorHandle::Init(env);
  data->tensor_ctor = Napi::Persistent(tctor);
  data->generator_ctor = Napi::Persistent(gctor);
  env.SetInstanceData<InstanceData>(data);
  exports.Set("TensorHandle", tctor);
  exports.Set("GeneratorHandle", gctor);
  exports.Set("call", Napi::Function::New(env, Safe<Call>));
  exports.Set("schema", Napi::Function::New(env, Safe<Schema>));
  exports.Set("fromTypedArray", Napi::Function::New(env, Safe<FromTypedArray>));
  exports.Set("setGradEnabled", Napi::Function::New(env, Safe<SetGradEnabled>));
  exports.Set("isGradEnabled", Napi::Function::New(env, Safe<IsGradEnabled>));
  exports.Set("setNumThreads", Napi::Function::New(env, Safe<SetNumThreads>));
  exports.Set("getNumThreads", Napi::Function::New(env, Safe<GetNumThreads>));
  exports.Set("manualSeed", Napi::Function::New(env, Safe<ManualSeed>));
  exports.Set("liveTensors", Napi::Function::New(env, Safe<LiveTensors>));
  exports.Set("memoryStats", Napi::Function::New(env, Safe<MemoryStats>));
  exports.Set("emptyCache", Napi::Function::New(env, Safe<EmptyCache>));
  exports.Set("cudaAvailable", Napi::Function::New(env, Safe<CudaAvailable>));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, Safe<CudaDeviceCount>));
  exports.Set("cudaSynchronize", Napi::Function::New(env, Safe<CudaSynchronize>));
  exports.Set("autocastState", Napi::Function::New(env, Safe<AutocastState>));
  exports.Set("setAutocast", Napi::Function::New(env, Safe<SetAutocast>));
  exports.Set("autocastNesting", Napi::Function::New(env, Safe<AutocastNesting>));
  exports.Set("mathMode", Napi::Function::New(env, Safe<MathMode>));
  exports.Set("setMathMode", Napi::Function::New(env, Safe<SetMathMode>));
  exports.Set("cudaMemoryStats", Napi::Function::New(env, Safe<CudaMemoryStats>));
  exports.Set("cudaResetPeak", Napi::Function::New(env, Safe<CudaResetPeak>));
  exports.Set("configInfo", Napi::Function::New(env, Safe<ConfigInfo>));
  exports.Set("version", Napi::Function::New(env, Safe<Version>));
#if defined(LODI_C10D_GLOO)
  exports.Set("ProcessGroupHandle", ProcessGroupHandle::Init(env));
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(lodi_torch, Init)
