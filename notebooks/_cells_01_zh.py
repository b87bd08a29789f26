"""Cells of notebooks/01_quickstart.zh-CN.ipynb, the Chinese edition of 01 (built by _build_notebooks.py)."""

CELLS = [
    ("md", r"""
# 01 · 快速入门：用 modelpanel 学鸢尾花分类

这是最经典的第一个神经网络：用一个很小的多层感知机 **4 → 10 → 3**，对 **Fisher 鸢尾花数据集**
（150 朵花，每朵 4 个测量值，3 个品种）进行分类。平时需要自己动手写的每一步（统计参数量、打印权重
统计量、画进度条、绘制损失曲线、在测试集上评估），在这里都由**一个面板**完成。

从上到下依次运行各个单元格（Shift+Enter）。所有内容都在 CPU 上几秒内跑完，不需要下载任何东西：
数据集就包含在 `modelpanel` 里。

面板上的文字用中文显示：创建面板时传入 `language="zh-CN"`。如果 JupyterLab 的界面语言已经是中文
（安装了语言包 `jupyterlab-language-pack-zh-CN`，并在 Settings → Language 中选择中文），不传这个参数
面板也会自动使用中文。
"""),
    ("code", r"""
import torch
from torch import nn

from modelpanel.datasets import load_iris
from modelpanel import ModelPanel

# 在共享的机器上（Binder、教室里的服务器）跑很小的模型时，单线程反而更快：torch 默认为每个 CPU
# 核心启动一个线程，它们的时间都花在互相等待上。
torch.set_num_threads(1)
torch.manual_seed(0)  # 每次运行都得到相同的初始权重，因此得到相同的数字
"""),
    ("md", r"""
## 1. 数据

`load_iris()` 返回特征 `X`（float32，每朵花一行）和标签 `y`
（0 = setosa 山鸢尾，1 = versicolor 变色鸢尾，2 = virginica 维吉尼亚鸢尾）。每个品种 50 朵。
"""),
    ("code", r"""
iris = load_iris()
print(iris)
print("特征：", iris.feature_names)
print("每类样本数：", iris.class_counts())
print("前几行：\n", iris.X[:3], iris.y[:3])
"""),
    ("md", r"""
我们留出 20% 的花作为模型训练时从不接触的**测试集**，并让两部分中各品种的比例相同（*分层*划分）。
然后只用*训练集*的统计量对每个特征做**标准化**（均值为 0、方差为 1），这样测试集的任何信息都不会
泄漏到训练中。
"""),
    ("code", r"""
train, test = iris.split(test_fraction=0.2, seed=42)
train, test = train.standardized(like=train), test.standardized(like=train)
print("训练集", len(train), "朵，测试集", len(test), "朵")
print("测试集每类样本数：", test.class_counts())
"""),
    ("md", r"""
## 2. 模型：4 → 10 → 3

四个输入（测量值），一个有十个 ReLU 单元的隐藏层，三个输出（每个品种一个分数；分数最大的就是预测
结果）。
"""),
    ("code", r"""
class IrisMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 10)   # 输入层 -> 隐藏层
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(10, 3)   # 隐藏层 -> 各类别的分数

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


model = IrisMLP()
"""),
    ("md", r"""
## 3. 面板

`ModelPanel(model, input_size=(1, 4), language="zh-CN")` 在一个该形状的随机输入上做一次前向传播，
得到每一层输出的形状，然后显示**层级树**、**参数表**和**权重直方图**。点击树中的某一层，可以查看
它的参数。
"""),
    ("code", r"""
panel = ModelPanel(model, input_size=(1, 4), language="zh-CN")
panel
"""),
    ("md", r"""
## 4. 这 83 个参数是从哪里来的？

一个 `Linear(in, out)` 层有一个 `out × in` 的权重矩阵，每个输出还有一个偏置：

* `fc1 = Linear(4, 10)`：**4 × 10 + 10 = 50**
* `fc2 = Linear(10, 3)`：**10 × 3 + 3 = 33**
* ReLU 没有参数，所以总数是 **50 + 33 = 83**。

面板的摘要对每一层都给出同样的推导：
"""),
    ("code", r"""
summary = panel.summary
for layer in summary.layers:
    print(f"{layer.path:5} {layer.kind:7} 参数量={layer.params:3}  {layer.param_formula}")
print("总参数量：", summary.total_params)
assert summary.total_params == 4 * 10 + 10 + 10 * 3 + 3 == 83
"""),
    ("md", r"""
同一张表的文本形式（在终端、CI 日志或 GitHub 这类不显示部件的地方看到的就是它）：
"""),
    ("code", r"""
print(summary)
"""),
    ("md", r"""
## 5. 训练前的权重分布

PyTorch 初始化 `Linear(in, out)` 层时，权重从 `[-1/√in, +1/√in]` 上的均匀分布中抽取：`fc1`（in = 4）
为 ±0.5，`fc2`（in = 10）为 ±0.316。面板中的直方图显示的正是这些平坦的分布，统计量也与之相符：
"""),
    ("code", r"""
from modelpanel.stats import weight_snapshot

before = weight_snapshot(model)
for rec in before.records:
    print(f"{rec['names'][0]:10} 形状={rec['shape']}  均值={rec['mean']:+.3f}  "
          f"标准差={rec['std']:.3f}  最小值={rec['min']:+.3f}  最大值={rec['max']:+.3f}")
"""),
    ("md", r"""
## 6. 训练：进度条和实时损失曲线

`panel.progress(...)` 是一个画在面板里的 `tqdm` 进度条，运行训练循环的单元格下方也会出现一个同样的
小进度条。`tqdm` 的三种用法它都支持：

1. **手动更新**：`with panel.progress(total=...) as pbar:` 加上 `pbar.update(1)`；
2. **包装可迭代对象**：`for xb, yb in panel.progress(loader, desc=..., unit=...)`；
3. **后缀**显示最新的数字：`pbar.set_postfix(loss=...)`。

`panel.log(loss=loss, step=...)` 在实时损失曲线上添加一个点。可以直接传入损失张量：面板每秒只读取
几次，而不是每一步都读取，所以记录指标不会拖慢训练。

先用手动更新的进度条训练 30 轮：
"""),
    ("code", r"""
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
loader = train.loader(batch_size=16, shuffle=True, seed=0)
step = 0

with panel.progress(total=30, desc="轮次（手动）") as pbar:
    for epoch in range(30):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            panel.log(loss=loss, step=step)
            step += 1
        pbar.set_postfix(loss=f"{loss.item():.3f}")
        pbar.update(1)
"""),
    ("md", r"""
再训练 70 轮，这次包装可迭代对象：外层进度条遍历轮次，内层进度条遍历每一轮的各个批次
（`leave=False` 让内层进度条在结束时消失）。
"""),
    ("code", r"""
epochs = panel.progress(range(30, 100), desc="轮次", unit="轮")
for epoch in epochs:
    for xb, yb in panel.progress(loader, desc="批次", unit="批", leave=False):
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        panel.log(loss=loss, step=step)
        step += 1
    epochs.set_postfix(loss=loss)   # 传入张量也可以：只在绘制进度条时才读取它的值

print(f"最终训练损失：{loss.item():.4f}")
"""),
    ("md", r"""
## 7. 训练后的权重

`panel.refresh()` 重新读取权重（训练循环运行时，进度条每隔几秒也会刷新一次直方图）。与训练前平坦的
分布比较一下：
"""),
    ("code", r"""
panel.refresh()
after = weight_snapshot(model)
for b, a in zip(before.records, after.records):
    print(f"{a['names'][0]:10} 标准差 {b['std']:.3f} -> {a['std']:.3f}   "
          f"范围 [{b['min']:+.2f}, {b['max']:+.2f}] -> [{a['min']:+.2f}, {a['max']:+.2f}]")
"""),
    ("md", r"""
## 8. 测试准确率（评估模式）

`panel.evaluate(X, y)` 在**评估模式**下、关闭梯度、分批运行模型，结束后把模型恢复成原来的样子
（这里是训练模式）。它返回准确率、预测结果和混淆矩阵（行：真实品种，列：预测品种），并显示在面板的
“推理”标签页中。
"""),
    ("code", r"""
result = panel.evaluate(test.X, test.y, device="cpu", batch_size=256,
                        labels=list(iris.target_names))
print(f"测试准确率：{result.accuracy:.1%}（共 {result.n} 朵花）")
print("混淆矩阵（行 = 真实，列 = 预测）：")
print(result.confusion)
print("模型仍处于训练模式：", model.training)
assert result.accuracy >= 0.85
"""),
    ("md", r"""
## 9. 保存下来

上面的面板只在内核运行时才是可交互的。`panel.save_html(path)` 会写出一个独立的 HTML 文件（层级树、
参数表、直方图、损失曲线、测试结果，文字同样是中文），可以离线在任何浏览器中打开，方便提交作业或
分享给学生。
"""),
    ("code", r"""
import tempfile
from pathlib import Path

out = Path(tempfile.mkdtemp()) / "iris_panel.html"
panel.save_html(out)
print(out, f"{out.stat().st_size:,} 字节")
assert "总参数量" in out.read_text(encoding="utf-8")
"""),
    ("md", r"""
**接下来：** `02_cnn`（图像上的卷积网络、BatchNorm、Dropout 和评估模式）、`03_monitoring`（Transformer、
权重分布随训练的变化、梯度范数、过大的学习率）、`04_inference`（设备、混淆矩阵，以及不用评估模式会
出什么问题）。这几个 notebook 目前只有英文版；在其中创建面板时加上 `language="zh-CN"`，面板同样显示
中文。
"""),
]
