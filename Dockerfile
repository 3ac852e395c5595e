# Rosetta.Blazor as a container image (for sites with a container registry; on a machine without
# one, ./rosetta.sh run builds and runs the app directly).
#
#   docker build -t rosetta/platform .
#   docker run -d --name rosetta -p 127.0.0.1:8080:8080 \
#     -v /var/run/docker.sock:/var/run/docker.sock -v rosetta-data:/app/data \
#     -e Rosetta__Admin__Password=change-me rosetta/platform
#
# Mounting the Docker socket gives the platform control of the host's engine (root-equivalent):
# run it only where the platform is trusted with that. The platform reaches local tasks at their
# containers' own addresses (Rosetta:Docker:TaskAddress=Container), which a platform container on the
# same bridge network can reach too (reasoned, not tested here); with TaskAddress=Published (tasks' ports on the host's
# 127.0.0.1) it must share the host network instead (add --network host and drop -p).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Rosetta.Blazor.sln ./
COPY Rosetta.Core/Rosetta.Core.csproj Rosetta.Core/
COPY Rosetta.App/Rosetta.App.csproj Rosetta.App/
RUN dotnet restore Rosetta.App/Rosetta.App.csproj
COPY Rosetta.Core/ Rosetta.Core/
COPY Rosetta.App/ Rosetta.App/
RUN dotnet publish Rosetta.App/Rosetta.App.csproj -c Release -o /out --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /out ./
COPY appsettings.json ./
ENV DOTNET_GCgen0size=0x800000 \
    ASPNETCORE_URLS=http://0.0.0.0:8080 \
    ConnectionStrings__Rosetta="Data Source=/app/data/rosetta.db" \
    Rosetta__DataDirectory=/app/data
VOLUME /app/data
EXPOSE 8080
HEALTHCHECK CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 || exit 1"]
ENTRYPOINT ["dotnet", "Rosetta.App.dll"]
