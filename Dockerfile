# Fine-Tune Studio on a CUDA GPU workstation.
#   docker build -t fine-tune-studio .
#   docker run --gpus all -p 7860:7860 -e STUDIO_AUTH=user:password -v $PWD/workspace:/workspace fine-tune-studio
# The server binds 0.0.0.0 inside the container, so it refuses to start without STUDIO_AUTH.
FROM pytorch/pytorch:2.8.0-cuda12.8-cudnn9-runtime

ENV PYTHONUNBUFFERED=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    STUDIO_HOME=/workspace \
    HF_HOME=/workspace/.hf

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .

EXPOSE 7860
VOLUME ["/workspace"]
CMD ["python", "app.py", "--host", "0.0.0.0", "--port", "7860"]
