export { getScalingSimulation as GET } from "@/lib/control-plane/scaling/console";
